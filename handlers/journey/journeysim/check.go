package journeysim

import (
	"fmt"
	"time"

	"github.com/procurement/atlassian-installer/events"
	"github.com/procurement/atlassian-installer/handlers/record"
)

// The rules every run must keep, checked by Check.
const (
	RuleOneOrder       = "at most one order per request"
	RuleAnnounced      = "an accepted order is always announced"
	RuleOneTerminal    = "exactly one terminal event"
	RuleProvisionTwice = "provisioning sent at most twice"
	RuleWindow         = "no order after the window"
	RuleNotRetryable   = "no retryable failure once an order may exist"
	// RuleTruth: provisioned only when Atlassian completed the provisioning and the order's
	// items; provision_failed only when the provisioning failed.
	RuleTruth = "the outcome agrees with Atlassian"
)

// Violation is a rule a run broke, and how.
type Violation struct {
	Rule, Detail string
}

// String is the rule and how it was broken.
func (v Violation) String() string { return v.Rule + ": " + v.Detail }

// Check checks, once a run has ended, the rules of the journey of requestID against the
// simulated Atlassian's truth and the outcome events published: the order window is
// measured from when Atlassian received the provisioning request, as Atlassian does.
func Check(requestID string, subjects events.Subjects, window time.Duration, a *Atlassian, log *EventLog) []Violation {
	var vs []Violation
	add := func(rule, format string, args ...any) {
		vs = append(vs, Violation{rule, fmt.Sprintf(format, args...)})
	}
	orders := a.OrdersAccepted()
	if len(orders) > 1 {
		add(RuleOneOrder, "Atlassian accepted %d orders: %v", len(orders), orders)
	}
	for _, id := range orders {
		if id != record.OrderID(requestID) {
			add(RuleOneOrder, "order %s is not the request's orderId %s", id, record.OrderID(requestID))
		}
	}
	var ordered, terminal []Message
	for _, m := range log.Messages {
		if m.RequestID != requestID {
			continue
		}
		switch m.Type {
		case subjects.Ordered():
			ordered = append(ordered, m)
		case subjects.Provisioned(), subjects.Failed(), subjects.Planned():
			terminal = append(terminal, m)
		}
	}
	for _, id := range orders {
		if !announces(ordered, id) {
			add(RuleAnnounced, "order %s was accepted and never announced", id)
		}
	}
	if len(ordered) > 1 {
		add(RuleAnnounced, "the order was announced %d times", len(ordered))
	}
	for _, m := range ordered {
		if !contains(orders, m.Data.(*events.Ordered).OrderID) {
			add(RuleAnnounced, "order %s was announced, not accepted", m.Data.(*events.Ordered).OrderID)
		}
	}
	switch {
	case len(terminal) == 0:
		add(RuleOneTerminal, "no terminal event")
	case len(terminal) > 1:
		add(RuleOneTerminal, "%d terminal events: %s", len(terminal), types(terminal))
	}
	if n := a.ProvisionsSent(); n > 2 {
		add(RuleProvisionTwice, "Atlassian received %d provisioning requests", n)
	}
	for _, p := range a.OrderPosts {
		switch {
		case p.ProvisionedAt.IsZero():
			add(RuleWindow, "order %s sent at %s naming no provisioning request Atlassian knows", p.OrderID, p.At.Format(time.TimeOnly))
		case p.At.Sub(p.ProvisionedAt) >= window:
			add(RuleWindow, "order %s sent %s after its provisioning request, window %s", p.OrderID, p.At.Sub(p.ProvisionedAt), window)
		}
	}
	mayExist := len(orders) > 0 || a.OrderAnswersLost > 0
	for _, m := range terminal {
		if f, ok := m.Data.(*events.Failed); ok && f.Retryable && mayExist {
			add(RuleNotRetryable, "failed %s/%s is retryable, and the order %s", f.Stage, f.Code, existence(orders))
		}
	}
	terminated := false
	for _, m := range log.Messages {
		switch {
		case m.RequestID != requestID:
		case m.Type == subjects.Ordered() && terminated:
			add(RuleAnnounced, "ordered came after the terminal event")
		case m.Type != subjects.Ordered():
			terminated = true
		}
	}
	for _, m := range terminal {
		switch d := m.Data.(type) {
		case *events.Provisioned:
			if why := a.notProvisioned(d.OrderID); why != "" {
				add(RuleTruth, "provisioned, but %s", why)
			}
		case *events.Failed:
			if d.Code == events.CodeProvisionFailed && !a.provisioningFailed() {
				add(RuleTruth, "failed provision_failed, but no provisioning request failed")
			}
		}
	}
	return vs
}

func announces(ordered []Message, orderID string) bool {
	for _, m := range ordered {
		if m.Data.(*events.Ordered).OrderID == orderID {
			return true
		}
	}
	return false
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func types(ms []Message) string {
	s := ""
	for i, m := range ms {
		if i > 0 {
			s += ", "
		}
		s += m.Type
	}
	return s
}

func existence(orders []string) string {
	if len(orders) > 0 {
		return "exists"
	}
	return "may exist (an order POST's answer was lost)"
}
