package calls_test

import (
	"strings"
	"testing"
	"time"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/handlers/calls"
)

// TestOrderRetryDefaults: the zero policy is the behaviour the installer has always had: a
// minute per order call, the client's retry within it, and the polling intervals between calls.
func TestOrderRetryDefaults(t *testing.T) {
	got := calls.OrderRetry{}.WithDefaults(5*time.Second, time.Minute)
	want := calls.OrderRetry{
		CallTimeout: time.Minute,
		Attempts:    5, Backoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second,
		Wait: 5 * time.Second, MaxWait: time.Minute,
	}
	if got != want {
		t.Fatalf("defaults %+v, want %+v", got, want)
	}
	if got.Call() != client.DefaultRetry {
		t.Errorf("the order call's retry %+v is not the client's default %+v", got.Call(), client.DefaultRetry)
	}
	if err := got.Check(); err != nil {
		t.Error(err)
	}
	// A start set above a default cap raises the cap, a cap set below a default start lowers
	// the start, as a first polling interval raises the polling cap.
	for _, tc := range []struct{ set, want calls.OrderRetry }{
		{calls.OrderRetry{Backoff: time.Minute}, with(want, func(r *calls.OrderRetry) { r.Backoff, r.MaxBackoff = time.Minute, time.Minute })},
		{calls.OrderRetry{MaxBackoff: 100 * time.Millisecond}, with(want, func(r *calls.OrderRetry) { r.Backoff, r.MaxBackoff = 100*time.Millisecond, 100*time.Millisecond })},
		{calls.OrderRetry{Wait: 2 * time.Minute}, with(want, func(r *calls.OrderRetry) { r.Wait, r.MaxWait = 2*time.Minute, 2*time.Minute })},
	} {
		if got := tc.set.WithDefaults(5*time.Second, time.Minute); got != tc.want {
			t.Errorf("%+v with defaults = %+v, want %+v", tc.set, got, tc.want)
		}
	}
}

func with(r calls.OrderRetry, f func(*calls.OrderRetry)) calls.OrderRetry {
	f(&r)
	return r
}

// TestOrderRetryCheck: a bad value is refused with the name of its field.
func TestOrderRetryCheck(t *testing.T) {
	for _, tc := range []struct {
		field string
		r     calls.OrderRetry
	}{
		{"CallTimeout", calls.OrderRetry{CallTimeout: -time.Second}},
		{"CallTimeout", calls.OrderRetry{CallTimeout: 11 * time.Minute}},
		{"Attempts", calls.OrderRetry{Attempts: -1}},
		{"Backoff", calls.OrderRetry{Backoff: -time.Second}},
		{"MaxBackoff", calls.OrderRetry{Backoff: 2 * time.Second, MaxBackoff: time.Second}},
		{"Wait", calls.OrderRetry{Wait: -time.Second}},
		{"MaxWait", calls.OrderRetry{Wait: 2 * time.Second, MaxWait: time.Second}},
	} {
		err := tc.r.WithDefaults(time.Second, time.Minute).Check()
		if err == nil || !strings.HasPrefix(err.Error(), "OrderRetry."+tc.field+" ") {
			t.Errorf("%+v: %v, want an error naming OrderRetry.%s", tc.r, err, tc.field)
		}
	}
}

// TestOrderRetryBackoff: the waits between calls start at Wait and double up to MaxWait.
func TestOrderRetryBackoff(t *testing.T) {
	r := calls.OrderRetry{Wait: time.Second, MaxWait: 5 * time.Second}
	var got []time.Duration
	for n := range uint64(6) {
		got = append(got, r.BackoffAfter(n+1))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits %v, want %v", got, want)
		}
	}
}
