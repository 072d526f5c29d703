package events_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/procurement/atlassian-installer/events"
)

func ExampleFromNATS() {
	h := nats.Header{}
	h.Set("ce-specversion", "1.0")
	h.Set("ce-id", "req-42")
	h.Set("ce-source", "urn:erp")
	h.Set("ce-type", "atlassian.install.requested")
	h.Set("Content-Type", "application/json")
	body := []byte(`{"orgId":"org-1","adminEmail":"admin@acme.example",
		"site":{"name":"Acme","create":true},
		"products":[{"offeringId":"off-1","chargeElement":"user","quantity":"ten"}]}`)

	e, err := events.FromNATS(h, body)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = events.RequestFromEvent(e, time.Now())
	var ve *events.ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Errors {
			fmt.Println(fe.Field)
		}
	}

	_, err = events.FromNATS(nil, []byte("hello"))
	fmt.Println(errors.Is(err, events.ErrNotCloudEvent))
	// Output:
	// site.name
	// site.timezone
	// products[0].quantity
	// billing
	// true
}

func ExampleEventID() {
	s := events.NewSubjects("")
	fmt.Println(events.EventID("req-42", s.Failed()) == events.EventID("req-42", s.Failed()))
	// Output: true
}
