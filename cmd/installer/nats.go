package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/internal/natsconn"
	"github.com/procurement/atlassian-installer/internal/redact"
)

// connectionName identifies the installer in the NATS server's connection list.
const connectionName = "atlassian-installer"

// embeddedReadyTimeout bounds the wait for the embedded server to accept connections.
const embeddedReadyTimeout = 15 * time.Second

// startEmbedded runs a NATS server with JetStream in this process. Every write is fsynced before
// it is acknowledged: with a single node there is no replica to recover a lost write from.
func startEmbedded(c Config, log *slog.Logger) (*server.Server, error) {
	host, portText, err := net.SplitHostPort(c.NATSListen)
	if err != nil {
		return nil, fmt.Errorf("INSTALLER_NATS_LISTEN: %w", err)
	}
	port, _ := strconv.Atoi(portText)
	if port == 0 {
		port = server.RANDOM_PORT // nats-server reads 0 as its default port, not a free one
	}
	if port > 0 {
		// nats-server cannot report a taken port (it logs and never becomes ready), so ask first.
		l, err := net.Listen("tcp", c.NATSListen)
		if err != nil {
			return nil, fmt.Errorf("embedded NATS cannot listen on %s (is another installer running? set NATS_URL to use it): %w", c.NATSListen, err)
		}
		_ = l.Close()
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("INSTALLER_DATA_DIR: %w", err)
	}
	ns, err := server.NewServer(&server.Options{
		ServerName: connectionName,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   c.DataDir,
		SyncAlways: true,
		NoSigs:     true, // signals belong to the installer, which shuts the server down itself
		NoLog:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("embedded NATS: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(embeddedReadyTimeout) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS not ready within %s", embeddedReadyTimeout)
	}
	log.Info("embedded NATS started", "url", ns.ClientURL(), "store_dir", c.DataDir, "sync_always", true)
	return ns, nil
}

// stopEmbedded shuts the embedded server down and waits, so its store is closed before exit.
func stopEmbedded(ns *server.Server) {
	if ns == nil {
		return
	}
	ns.Shutdown()
	ns.WaitForShutdown()
}

// connect dials NATS over TCP, reconnecting forever once connected; the first connection must
// succeed, so a wrong NATS_URL stops start-up instead of leaving a service that never works.
// s.URL lists the servers; s's other settings were checked with the configuration.
func connect(s natsconn.Settings, log *slog.Logger) (*nats.Conn, error) {
	auth, err := s.Options()
	if err != nil {
		return nil, err
	}
	opts := append(auth,
		nats.Name(connectionName),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: our own Close at shutdown
				log.Warn("NATS disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("NATS error", "subject", subject, "error", err)
		}),
	)
	nc, err := nats.Connect(s.URL, opts...)
	if err != nil {
		urls := strings.Split(s.URL, ",")
		shown := make([]string, len(urls))
		for i, u := range urls {
			shown[i] = redact.URL(u)
		}
		// nats.go's errors name no URL, so wrapping them cannot leak a password.
		return nil, fmt.Errorf("NATS_URL: cannot connect to %s: %w", strings.Join(shown, ","), err)
	}
	log.Info("NATS connected", "url", nc.ConnectedUrlRedacted(), "server", nc.ConnectedServerName())
	return nc, nil
}
