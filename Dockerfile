# The installer image: installer (entrypoint), installctl and atlassian-sandbox, static binaries on a
# small non-root runtime.
#
#   docker build -t atlassian-installer:dev \
#     --build-arg VERSION=$(git describe --tags --always) --build-arg REVISION=$(git rev-parse HEAD) .
#   docker buildx build --platform linux/amd64,linux/arm64 -t atlassian-installer:dev .
#   docker run --rm atlassian-installer:dev --help
#   docker run --rm --entrypoint installctl atlassian-installer:dev --help
#
# Base images are pinned by version; pin them by digest too (@sha256:…) where builds must be
# reproducible byte for byte.

# The build stage runs on the builder's own platform and cross-compiles (Go needs no emulation);
# only the runtime stage is of the target platform.
FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm AS build
WORKDIR /src

# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
# TARGETOS/TARGETARCH come from BuildKit (docker buildx build --platform …): the platform of the
# image being built, which the binaries are compiled for.
ARG TARGETOS
ARG TARGETARCH
# CGO_ENABLED=0: fully static binaries that run on any base image.
# timetzdata: site.timezone is checked against the IANA zone database, embedded so the runtime
# image needs no tzdata package.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -tags timetzdata -ldflags="-s -w" -o /out/ \
        ./cmd/installer ./cmd/installctl ./cmd/atlassian-sandbox

# Alpine rather than distroless: its busybox wget lets compose and orchestrators probe /readyz
# without shipping a probe binary. ca-certificates come with the base image.
FROM alpine:3.24.1

# VERSION and REVISION name the build (a release tag, the commit); the defaults mark a local build.
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="atlassian-installer" \
      org.opencontainers.image.description="Turns install.requested CloudEvents on NATS JetStream into provisioned, ordered Atlassian products and apps" \
      org.opencontainers.image.source="https://github.com/procurement/atlassian-installer" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/alpine:3.24.1"
RUN addgroup -S -g 10001 installer \
 && adduser -S -D -H -u 10001 -G installer -s /sbin/nologin installer \
 && mkdir -p /data \
 && chown installer:installer /data
COPY --from=build /out/installer /out/installctl /out/atlassian-sandbox /usr/local/bin/

# In a container the probes must be reachable from outside; the embedded NATS server (no NATS_URL)
# stores under the /data volume.
ENV INSTALLER_HTTP_ADDR=0.0.0.0:8080 \
    INSTALLER_DATA_DIR=/data
VOLUME ["/data"]
WORKDIR /data
EXPOSE 8080
USER 10001:10001

ENTRYPOINT ["/usr/local/bin/installer"]
