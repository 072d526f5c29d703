package handlers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/handlers"
)

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
