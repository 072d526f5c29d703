// Package deploy holds the deployment artefacts of the installer (NATS cluster configuration,
// the OpenTelemetry Collector and Jaeger configurations, NATS permissions, Prometheus alert
// rules and scrape configuration, the Grafana dashboard, the Kubernetes base and the NATS Helm
// values) and the tests that keep them, the Dockerfile and docker-compose.yml true to the
// contract without a Docker engine: the compose file's services, environment names, ports and
// volumes are checked statically, the manifests and dashboards against the installer's
// variables, endpoints and metrics, and the same topology (three JetStream nodes, two
// installers, the sandbox) runs in one process while a node and an installer are stopped.
//
// Its Go API serves those checks: Queries lists the PromQL expressions of the alert rules and
// the dashboards, so that a test holding a real /metrics scrape can check every metric they name:
//
//	queries, _ := deploy.Queries()
//	for _, q := range queries {
//		names, err := q.Metrics() // err: the expression does not parse
//		…
//	}
//
// The README's "Running in production" section explains the topology these files describe.
package deploy
