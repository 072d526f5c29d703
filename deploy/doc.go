// Package deploy holds the deployment artefacts of the installer (NATS cluster configuration,
// the OpenTelemetry Collector configuration, NATS permissions) and the tests that keep them, the
// Dockerfile and docker-compose.yml true to the contract without a Docker engine: the compose
// file's services, environment names, ports and volumes are checked statically, and the same
// topology (three JetStream nodes, two installers, the sandbox) runs in one process while a node
// and an installer are stopped.
//
// The README's "Running in production" section explains the topology these files describe.
package deploy
