package installtest

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// Journey reads a request's state from the default journey bucket, with the publications its
// compact record in the finished bucket tells of, as the installer reads it.
func (e *Env) Journey(requestID string) *record.State {
	e.T.Helper()
	kv, err := e.JS.KeyValue(context.Background(), record.DefaultBucket)
	if err != nil {
		e.T.Fatalf("bucket: %v", err)
	}
	entry, err := kv.Get(context.Background(), record.Key(requestID))
	if err != nil {
		e.T.Fatalf("journey %s: %v", requestID, err)
	}
	var st record.State
	if err := json.Unmarshal(entry.Value(), &st); err != nil {
		e.T.Fatal(err)
	}
	if st.Terminal() {
		if f := e.finished(requestID); f != nil {
			st.Published = f.Published
		}
	}
	return &st
}

// finished reads a request's compact record from the default finished bucket; nil when
// there is none.
func (e *Env) finished(requestID string) *record.State {
	e.T.Helper()
	kv, err := e.JS.KeyValue(context.Background(), record.DefaultFinishedBucket)
	if err != nil {
		e.T.Fatalf("bucket: %v", err)
	}
	entry, err := kv.Get(context.Background(), record.Key(requestID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		e.T.Fatalf("finished journey %s: %v", requestID, err)
	}
	var st record.State
	if err := json.Unmarshal(entry.Value(), &st); err != nil {
		e.T.Fatal(err)
	}
	return &st
}

// OrdersOf returns the orders the sandbox accepted for a request.
func (e *Env) OrdersOf(requestID string) []client.OrderRequest {
	var out []client.OrderRequest
	for _, o := range e.Sandbox.Orders() {
		if o.OrderID == record.OrderID(requestID) {
			out = append(out, o)
		}
	}
	return out
}
