package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// journeyBucket is the installer's KV bucket of journey states (record.State), one key
// per request (record.Key); finishedBucket keeps the compact records of finished journeys,
// in the same form, after their states expire.
const (
	journeyBucket  = record.DefaultBucket
	finishedBucket = record.DefaultFinishedBucket
)

// journeyView is what installctl shows of a journey state: the few fields a person looks at,
// and the stored JSON as it is for --json.
type journeyView struct {
	RequestID          string
	OrgID              string
	Step               string
	Status             string
	OrderID            string
	ProvisionRequestID string
	Phase              record.Phase
	Failed             *events.Failed // the failure, once the journey failed
	SiteURL            string         // the site, once provisioned
	Published          []string       // the event types published
	CompletedAt        time.Time
	UpdatedAt          time.Time
	Revision           uint64
	Raw                json.RawMessage
	// Compact: this is the compact record of a finished journey whose state expired.
	Compact bool

	outcome *record.Outcome // set once the journey has its terminal outcome
}

// decodeJourney reads a KV entry of the journeys bucket.
func decodeJourney(e jetstream.KeyValueEntry) (*journeyView, error) {
	var s record.State
	if err := json.Unmarshal(e.Value(), &s); err != nil {
		return nil, fmt.Errorf("journey %s: %w", e.Key(), err)
	}
	j := &journeyView{
		RequestID:          s.RequestID,
		Step:               string(s.Step),
		Status:             string(s.Status),
		OrderID:            s.OrderID,
		ProvisionRequestID: s.ProvisionRequestID,
		Phase:              s.Step.Phase(),
		Published:          s.Published,
		CompletedAt:        s.CompletedAt,
		UpdatedAt:          s.UpdatedAt,
		Revision:           e.Revision(),
		Raw:                json.RawMessage(e.Value()),
	}
	if j.RequestID == "" {
		j.RequestID = e.Key()
	}
	if s.Request != nil {
		j.OrgID = s.Request.OrgID
	}
	if o := s.Outcome; o != nil && (o.Failed != nil || o.Provisioned != nil || o.Planned != nil) {
		j.outcome = o
		if o.Failed != nil {
			j.Failed = o.Failed
			if j.OrderID == "" {
				j.OrderID = o.Failed.OrderID
			}
			j.Phase = record.PhaseOfStage(o.Failed.Stage)
		}
		if o.Provisioned != nil {
			j.SiteURL = o.Provisioned.Site.URL
		}
	}
	if j.UpdatedAt.IsZero() {
		j.UpdatedAt = e.Created()
	}
	return j, nil
}

// describe is the journey's own step and status in a few words.
func (j *journeyView) describe() string {
	parts := make([]string, 0, 2)
	if j.Step != "" {
		parts = append(parts, "step "+j.Step)
	}
	if j.Status != "" {
		parts = append(parts, "status "+j.Status)
	}
	return strings.Join(parts, ", ")
}

// matches reports whether the journey is in state s: its status, its step or its phase.
func (j *journeyView) matches(s string) bool {
	return strings.EqualFold(j.Status, s) || strings.EqualFold(j.Step, s) || strings.EqualFold(j.Phase.String(), s)
}
