// Package installtest runs the installer in tests as production runs it: a real embedded
// JetStream server, the Atlassian sandbox, and one fake clock shared by the sandbox, the
// client and every installer, so that waiting journeys finish in milliseconds.
//
//	e := installtest.New(t)
//	cfg := e.Config()
//	cfg.AckWait = time.Second
//	e.Start(e.JS, handlers.ClientAPI(e.Client), cfg)
//	e.Publish("req-1", request)
//	if term := e.Terminal("req-1"); term.Type != installtest.Subjects.Provisioned() {
//		t.Fatalf("%s %v", term.Type, term.Data)
//	}
//	e.Settled()
//
// Waits have a deadline (Timeout) and fail the test with what was awaited; Env's waits
// advance the fake clock between checks, Eventually only checks.
package installtest
