package installtest

import (
	"context"
	"encoding/json"

	"github.com/procurement/atlassian-installer/client"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// Journey reads a request's state from the default journey bucket.
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
