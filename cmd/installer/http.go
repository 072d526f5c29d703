package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// readHeaderTimeout keeps a slow client from holding a connection of the probe server open.
const readHeaderTimeout = 5 * time.Second

// opsServer serves the operator's endpoints: /healthz, /readyz and /metrics.
type opsServer struct {
	srv *http.Server
	ln  net.Listener
}

// listenOps binds addr at once, so a taken port stops start-up; serving starts with serve.
// ready returns nil when the installer is connected and consuming, or the reason it is not.
func listenOps(addr string, ready func() error, metrics http.Handler, log *slog.Logger) (*opsServer, error) {
	ln, err := net.Listen("tcp", strings.Replace(addr, ":-1", ":0", 1))
	if err != nil {
		return nil, fmt.Errorf("INSTALLER_HTTP_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", metrics)
	return &opsServer{
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: readHeaderTimeout,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ln: ln,
	}, nil
}

// Addr is the bound address (with the real port when the configured one was 0).
func (o *opsServer) Addr() string { return o.ln.Addr().String() }

// serve blocks until shutdown; its error is never http.ErrServerClosed.
func (o *opsServer) serve() error {
	if err := o.srv.Serve(o.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

func (o *opsServer) shutdown(ctx context.Context) error {
	return o.srv.Shutdown(ctx)
}
