package handlers_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/handlers"
)

func TestKey(t *testing.T) {
	valid := regexp.MustCompile(`^[-/_=\.a-zA-Z0-9]+$`)
	for _, id := range []string{
		"3f0c2b1e-8a4d-4f6b-9c2e-1d0a9b8c7d6e", "req-1",
		"urn:procurement:order/42", "a.b", "", "ünïcode id", "_looks-encoded",
	} {
		k := handlers.Key(id)
		if !valid.MatchString(k) || k[0] == '.' || k[len(k)-1] == '.' {
			t.Errorf("Key(%q) = %q is not a valid KV key", id, k)
		}
		if k != handlers.Key(id) {
			t.Errorf("Key(%q) is not deterministic", id)
		}
	}
	if handlers.Key("req-1") != "req-1" {
		t.Error("a plain id is not its own key")
	}
	if handlers.Key("a.b") == handlers.Key("a_b") || handlers.Key("_x") == "_x" {
		t.Error("encoded keys collide with plain ones")
	}
}

func TestOrderID(t *testing.T) {
	a, b := handlers.OrderID("req-1"), handlers.OrderID("req-2")
	if a != handlers.OrderID("req-1") || a == b || len(a) != 36 {
		t.Errorf("OrderID: %s %s", a, b)
	}
}

func TestNewInstallerRejectsBadConfig(t *testing.T) {
	e := newEnv(t)
	for name, mutate := range map[string]func(*handlers.Config, *handlers.API){
		"no commerce":        func(_ *handlers.Config, a *handlers.API) { a.Commerce = nil },
		"concurrency":        func(c *handlers.Config, _ *handlers.API) { c.Concurrency = -1 },
		"ack wait":           func(c *handlers.Config, _ *handlers.API) { c.AckWait = 10 },
		"max poll interval":  func(c *handlers.Config, _ *handlers.API) { c.MaxPollInterval = c.PollInterval / 2 },
		"replicas":           func(c *handlers.Config, _ *handlers.API) { c.Replicas = 7 },
		"order call timeout": func(c *handlers.Config, _ *handlers.API) { c.OrderCallTimeout = -time.Second },
	} {
		cfg, api := e.Config(), handlers.ClientAPI(e.Client)
		mutate(&cfg, &api)
		if _, err := handlers.NewInstaller(e.JS, api, cfg); !errors.Is(err, handlers.ErrInvalidOption) {
			t.Errorf("%s: %v, want ErrInvalidOption", name, err)
		}
	}
}

func TestReadyFollowsRun(t *testing.T) {
	e := newEnv(t)
	i := e.StartDefault()
	if !i.Ready() {
		t.Fatal("not ready while running")
	}
	i.Stop(t)
	if i.Ready() {
		t.Error("ready after Run returned")
	}
	if err := i.Run(context.Background()); err == nil {
		t.Error("a second Run succeeded")
	}
}
