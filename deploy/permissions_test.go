package deploy

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/client/atlassiantest"
	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers"
	"github.com/procurement/atlassian-installer/internal/quota"
)

// passwords of the users in nats/accounts.conf, which reads them from the environment.
var passwords = map[string]string{
	"installer":   "INSTALLER_NATS_PASSWORD",
	"procurement": "PROCUREMENT_NATS_PASSWORD",
	"operator":    "OPERATOR_NATS_PASSWORD",
	"system":      "SYSTEM_NATS_PASSWORD",
}

// startAuthServer runs one JetStream node with the users and permissions of nats/accounts.conf.
func startAuthServer(t *testing.T) *server.Server {
	t.Helper()
	for user, env := range passwords {
		t.Setenv(env, "secret-of-"+user)
	}
	opts, err := server.ProcessConfigFile("nats/accounts.conf")
	if err != nil {
		t.Fatalf("nats/accounts.conf: %v", err)
	}
	opts.Host, opts.Port = "127.0.0.1", -1
	opts.JetStream, opts.StoreDir = true, t.TempDir()
	opts.NoLog, opts.NoSigs = true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(clusterReady) {
		t.Fatal("server not ready")
	}
	return s
}

// violations collects the permission violations the server reports to one connection.
type violations struct {
	mu   sync.Mutex
	errs []string
}

func (v *violations) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	if errors.Is(err, nats.ErrPermissionViolation) || strings.Contains(err.Error(), "Permissions Violation") {
		v.mu.Lock()
		defer v.mu.Unlock()
		v.errs = append(v.errs, err.Error())
	}
}

func (v *violations) list() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.errs...)
}

// connectAs connects as one of the users, with the inbox prefix nats/accounts.conf gives it.
func connectAs(t *testing.T, s *server.Server, user string, v *violations) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	return connect(t, s.ClientURL(), user, nats.UserInfo(user, "secret-of-"+user),
		nats.ErrorHandler(v.handler), nats.CustomInboxPrefix(inboxPrefixes[user]))
}

// inboxPrefixes are the users' own inboxes in nats/accounts.conf; the operator may use any.
var inboxPrefixes = map[string]string{
	"installer": "_INBOX_installer", "procurement": "_INBOX_procurement", "operator": "_INBOX",
}

// TestLeastPrivilegeInstallerRunsJourneys proves that the installer's permissions in
// nats/accounts.conf are enough for its whole life (streams, bucket, consumer, journeys,
// outcomes) and that the procurement user's are enough to publish a request and follow it.
func TestLeastPrivilegeInstallerRunsJourneys(t *testing.T) {
	s := startAuthServer(t)
	sandbox := atlassiantest.NewServer(
		atlassiantest.WithProvisionDelay(provisionDelay),
		atlassiantest.WithOrderProcessingDelay(provisionDelay),
	)
	t.Cleanup(sandbox.Close)
	subjects := events.NewSubjects("")

	var installerErrs violations
	_, ijs := connectAs(t, s, "installer", &installerErrs)
	ctx, cancel := context.WithCancel(context.Background())
	// The shared API quota, led by one instance and asked for turns by another.
	var quotas []*quota.Quota
	for range 2 {
		_, qjs := connectAs(t, s, "installer", &installerErrs)
		q, err := quota.New(ctx, qjs, quota.Config{Prefix: events.DefaultSubjectPrefix, Limits: client.DefaultLimits()})
		if err != nil {
			t.Fatalf("quota: %v (permission violations: %v)", err, installerErrs.list())
		}
		qdone := make(chan struct{})
		go func() { defer close(qdone); _ = q.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-qdone; _ = q.Close() })
		quotas = append(quotas, q)
	}
	waitFor(t, clusterReady, "a quota leader", func() bool { return quotas[0].Leader() || quotas[1].Leader() })
	asker := quotas[0]
	if asker.Leader() {
		asker = quotas[1]
	}
	asker.Pause("", client.FamilyQuotes, time.Millisecond)
	api, err := client.NewClient(client.WithBaseURL(sandbox.URL), client.WithAPIKey(atlassiantest.DefaultAPIKey), client.WithLimiter(asker))
	if err != nil {
		t.Fatal(err)
	}
	in, err := handlers.NewInstaller(ijs, handlers.API{
		Installations: api.Installations, Commerce: api.Commerce, Workspaces: api.Workspaces,
	}, handlers.Config{Subjects: subjects, PollInterval: pollInterval, MaxPollInterval: 4 * pollInterval, Limiter: asker})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, clusterReady, "the installer consuming", func() bool {
		select {
		case err := <-done:
			t.Fatalf("installer stopped: %v (permission violations: %v)", err, installerErrs.list())
		default:
		}
		return in.Ready()
	})

	var procurementErrs violations
	_, pjs := connectAs(t, s, "procurement", &procurementErrs)
	seen := watchOutcomes(t, pjs)
	id := uuid.NewString()
	publishRequest(t, pjs, subjects, id, 0)
	waitFor(t, journeysDone, "the request provisioned", func() bool {
		return seen.terminated(subjects, []string{id}) == 1
	})
	// The installer's inboxes carried its pulled requests and journey state all along, and
	// the procurement user may not listen there, nor on the shared _INBOX.
	for _, inbox := range []string{"_INBOX_installer.>", "_INBOX.>"} {
		var v violations
		nc, _ := connectAs(t, s, "procurement", &v)
		if _, err := nc.SubscribeSync(inbox); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "procurement refused "+inbox, func() bool { return len(v.list()) > 0 })
	}
	if got := seen.of(id); len(got) != 2 || got[1] != subjects.Provisioned() {
		t.Errorf("events %v, want ordered then provisioned", got)
	}
	if v := installerErrs.list(); len(v) > 0 {
		t.Errorf("installer hit permission violations: %v", v)
	}
	if v := procurementErrs.list(); len(v) > 0 {
		t.Errorf("procurement hit permission violations: %v", v)
	}
}

// TestLeastPrivilegeRefusesForgery checks the other half: neither user can do what is not
// its job.
func TestLeastPrivilegeRefusesForgery(t *testing.T) {
	s := startAuthServer(t)
	subjects := events.NewSubjects("")
	var opErrs violations
	_, ojs := connectAs(t, s, "operator", &opErrs)
	if err := events.EnsureStreams(context.Background(), ojs, subjects, 1); err != nil {
		t.Fatalf("operator creates the streams: %v", err)
	}

	cases := []struct {
		user, subject, why string
	}{
		{"procurement", subjects.Provisioned(), "a procurement system must not forge outcomes"},
		{"procurement", "$JS.API.STREAM.DELETE." + events.StreamRequests, "a procurement system must not delete streams"},
		{"installer", subjects.Requested(), "the installer must not publish requests"},
		{"installer", "$JS.API.STREAM.DELETE." + events.StreamEvents, "the installer must not delete streams"},
		{"installer", "$JS.API.STREAM.CREATE.OTHER", "the installer must not create unrelated streams"},
	}
	for _, tc := range cases {
		t.Run(tc.user+" "+tc.subject, func(t *testing.T) {
			var v violations
			nc, _ := connectAs(t, s, tc.user, &v)
			if err := nc.Publish(tc.subject, []byte("{}")); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "a permission violation: "+tc.why, func() bool {
				return len(v.list()) > 0
			})
		})
	}
}
