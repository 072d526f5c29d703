package atlassiantest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Endpoint names one API operation of the sandbox, for faults and the request log.
type Endpoint string

// The endpoints of the sandbox. EndpointAll applies a fault to every endpoint
// that has no fault of its own.
const (
	EndpointAll                  Endpoint = "*"
	EndpointProductEntitlements  Endpoint = "product-entitlements"
	EndpointEntitlementDetails   Endpoint = "entitlement-details"
	EndpointProvisionProducts    Endpoint = "provision-products"
	EndpointProvisionApp         Endpoint = "provision-app"
	EndpointProvisionStatus      Endpoint = "provision-status"
	EndpointWorkspaces           Endpoint = "workspaces"
	EndpointCreateOrder          Endpoint = "create-order"
	EndpointCreateOrderV1        Endpoint = "create-order-v1"
	EndpointGetOrder             Endpoint = "get-order"
	EndpointGetQuote             Endpoint = "get-quote"
	EndpointListQuotes           Endpoint = "list-quotes"
	EndpointDownloadQuote        Endpoint = "download-quote"
	EndpointListPromotionsPaged  Endpoint = "list-promotions-paged"
	EndpointListPromotions       Endpoint = "list-promotions"
	EndpointCreatePromotion      Endpoint = "create-promotion"
	EndpointGetPromotion         Endpoint = "get-promotion"
	EndpointUpdatePromotion      Endpoint = "update-promotion"
	EndpointListPromotionCodes   Endpoint = "list-promotion-codes"
	EndpointCreatePromotionCode  Endpoint = "create-promotion-code"
	EndpointGetPromotionCode     Endpoint = "get-promotion-code"
	EndpointDeletePromotionCode  Endpoint = "delete-promotion-code"
	EndpointGetPromotionStatus   Endpoint = "get-promotion-status"
	EndpointListCSMFields        Endpoint = "list-csm-fields"
	EndpointCreateCSMField       Endpoint = "create-csm-field"
	EndpointUpdateCSMField       Endpoint = "update-csm-field"
	EndpointDeleteCSMField       Endpoint = "delete-csm-field"
	EndpointGetCSMEntitlement    Endpoint = "get-csm-entitlement"
	EndpointDeleteCSMEntitlement Endpoint = "delete-csm-entitlement"
	EndpointSetCSMDetail         Endpoint = "set-csm-entitlement-detail"
	EndpointListCSMEntitlements  Endpoint = "list-csm-entitlements"
)

// Fault describes how an endpoint misbehaves. Shares are in [0, 1] and are
// drawn from one seeded random source (WithSeed), in this order: RateLimit,
// Error, Ambiguous.
type Fault struct {
	// Latency delays every answer, on the sandbox's clock.
	Latency time.Duration `json:"latency,omitempty"`
	// Error is the share of requests answered with ErrorStatus (500 and 503
	// at random when it is 0) before anything happens.
	Error       float64 `json:"error,omitempty"`
	ErrorStatus int     `json:"errorStatus,omitempty"`
	// RateLimit is the share of requests answered 429 with Retry-After.
	RateLimit float64 `json:"rateLimit,omitempty"`
	// RetryAfter is sent with 429 answers (default 1s) and, when set, with
	// 503 answers; it is rounded up to whole seconds.
	RetryAfter time.Duration `json:"retryAfter,omitempty"`
	// Ambiguous is the share of requests whose effect happens but whose
	// connection is dropped before the answer: an order or provisioning
	// request is stored, then the connection closes without a byte of answer.
	Ambiguous float64 `json:"ambiguous,omitempty"`
	// ReadLag makes reads lag writes by that much, on the get-order and
	// provision-status endpoints: they answer as of ReadLag ago, 404 for an
	// order or provisioning request stored since, and the status it had then.
	ReadLag time.Duration `json:"readLag,omitempty"`
	// ProvisionFails makes provisioning requests accepted meanwhile end FAILED.
	ProvisionFails bool `json:"provisionFails,omitempty"`
	// OrderItemsFail makes the items of orders accepted meanwhile end FAILED.
	OrderItemsFail bool `json:"orderItemsFail,omitempty"`
	// Times limits the fault to the next Times requests it applies to; 0 is
	// for ever.
	Times int `json:"times,omitempty"`
}

// action is what the fault machinery decided for one request.
type action struct {
	latency        time.Duration
	readLag        time.Duration
	status         int
	retryAfter     time.Duration
	ambiguous      bool
	provisionFails bool
	orderItemsFail bool
}

type faultSet struct {
	mu     sync.Mutex
	rng    *rand.Rand
	faults map[Endpoint]*Fault
}

func newFaultSet(seed uint64, initial map[Endpoint]Fault) *faultSet {
	fs := &faultSet{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), faults: map[Endpoint]*Fault{}}
	for e, f := range initial {
		fs.faults[e] = &f
	}
	return fs
}

func (fs *faultSet) set(e Endpoint, f Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.faults[e] = &f
}

func (fs *faultSet) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	clear(fs.faults)
}

func (fs *faultSet) snapshot() map[Endpoint]Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make(map[Endpoint]Fault, len(fs.faults))
	for e, f := range fs.faults {
		out[e] = *f
	}
	return out
}

// decide draws the fault action for one request of endpoint e.
func (fs *faultSet) decide(e Endpoint) action {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.faults) == 0 {
		return action{}
	}
	key := e
	f, ok := fs.faults[e]
	if !ok {
		key = EndpointAll
		if f, ok = fs.faults[EndpointAll]; !ok {
			return action{}
		}
	}
	a := action{latency: f.Latency, readLag: f.ReadLag, provisionFails: f.ProvisionFails, orderItemsFail: f.OrderItemsFail}
	a.retryAfter = f.RetryAfter
	if f.RateLimit > 0 || f.Error > 0 || f.Ambiguous > 0 {
		r := fs.rng.Float64()
		switch {
		case r < f.RateLimit:
			a.status = http.StatusTooManyRequests
		case r < f.RateLimit+f.Error:
			a.status = f.ErrorStatus
			if a.status == 0 {
				a.status = http.StatusInternalServerError
				if fs.rng.IntN(2) == 1 {
					a.status = http.StatusServiceUnavailable
				}
			}
		case r < f.RateLimit+f.Error+f.Ambiguous:
			a.ambiguous = true
		}
	}
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			delete(fs.faults, key)
		}
	}
	return a
}

// retryAfterValue renders a Retry-After header in whole seconds, at least 1.
func retryAfterValue(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(s, 1), 10)
}

// SetFault makes endpoint e misbehave as f until ClearFaults or another
// SetFault for e. EndpointAll covers every endpoint without its own fault.
func (s *Server) SetFault(e Endpoint, f Fault) {
	s.faults.set(e, f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() { s.faults.clear() }

// Faults returns the faults currently set.
func (s *Server) Faults() map[Endpoint]Fault { return s.faults.snapshot() }

// ParseEndpoint checks an endpoint name (as the admin API receives it);
// "all" stands for EndpointAll, which a shell would expand.
func ParseEndpoint(name string) (Endpoint, error) {
	if name == "all" {
		return EndpointAll, nil
	}
	e := Endpoint(name)
	if e == EndpointAll || allEndpoints[e] {
		return e, nil
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownEndpoint, name)
}
