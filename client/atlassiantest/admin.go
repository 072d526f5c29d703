package atlassiantest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// adminHandler serves /_sandbox/, the control API of the sandbox:
//
//	GET    /_sandbox/requests             the request log (credentials redacted)
//	DELETE /_sandbox/requests             empty it
//	GET    /_sandbox/orders               accepted orders
//	GET    /_sandbox/faults               faults in force
//	PUT    /_sandbox/faults/{endpoint}    set a fault (JSON Fault; durations like "250ms"; endpoint "all" for every one)
//	DELETE /_sandbox/faults               clear every fault
//	GET    /_sandbox/fixtures             dump the current state as fixtures
//	PUT    /_sandbox/fixtures             replace the state with fixtures
//	GET    /_sandbox/endpoints            the endpoint names faults accept
//
// It takes the same credentials as the API.
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_sandbox/requests", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Requests())
	})
	mux.HandleFunc("DELETE /_sandbox/requests", func(w http.ResponseWriter, _ *http.Request) {
		s.ResetRequests()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sandbox/orders", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Orders())
	})
	mux.HandleFunc("GET /_sandbox/faults", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("PUT /_sandbox/faults/{endpoint}", func(w http.ResponseWriter, r *http.Request) {
		e, err := ParseEndpoint(r.PathValue("endpoint"))
		if err != nil {
			writeError(w, http.StatusNotFound, "NOT_FOUND", err.Error())
			return
		}
		var f Fault
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeError(w, http.StatusBadRequest, "INVALID_REQUEST", "fault: "+err.Error())
			return
		}
		s.SetFault(e, f)
		writeJSON(w, http.StatusOK, f)
	})
	mux.HandleFunc("DELETE /_sandbox/faults", func(w http.ResponseWriter, _ *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sandbox/fixtures", func(w http.ResponseWriter, _ *http.Request) {
		var buf bytes.Buffer
		if err := s.Fixtures().Dump(&buf); err != nil {
			writeError(w, http.StatusInternalServerError, "INTERNAL", err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.Copy(w, &buf)
	})
	mux.HandleFunc("PUT /_sandbox/fixtures", func(w http.ResponseWriter, r *http.Request) {
		f, err := LoadFixtures(r.Body)
		if err == nil {
			err = s.LoadFixtures(f)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "INVALID_FIXTURES", err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sandbox/endpoints", func(w http.ResponseWriter, _ *http.Request) {
		names := []Endpoint{EndpointAll}
		for _, rt := range routes {
			names = append(names, rt.endpoint)
		}
		writeJSON(w, http.StatusOK, names)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.authorized(r); !ok {
			writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "missing or invalid credentials")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// faultJSON is Fault with durations as Go duration strings.
type faultJSON struct {
	Latency        string  `json:"latency,omitempty"`
	Error          float64 `json:"error,omitempty"`
	ErrorStatus    int     `json:"errorStatus,omitempty"`
	RateLimit      float64 `json:"rateLimit,omitempty"`
	RetryAfter     string  `json:"retryAfter,omitempty"`
	Ambiguous      float64 `json:"ambiguous,omitempty"`
	ReadLag        string  `json:"readLag,omitempty"`
	ProvisionFails bool    `json:"provisionFails,omitempty"`
	OrderItemsFail bool    `json:"orderItemsFail,omitempty"`
	Times          int     `json:"times,omitempty"`
}

// MarshalJSON writes durations as Go duration strings ("250ms").
func (f Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{Error: f.Error, ErrorStatus: f.ErrorStatus, RateLimit: f.RateLimit, Ambiguous: f.Ambiguous,
		ProvisionFails: f.ProvisionFails, OrderItemsFail: f.OrderItemsFail, Times: f.Times}
	if f.Latency > 0 {
		j.Latency = f.Latency.String()
	}
	if f.RetryAfter > 0 {
		j.RetryAfter = f.RetryAfter.String()
	}
	if f.ReadLag > 0 {
		j.ReadLag = f.ReadLag.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads durations as Go duration strings and checks the shares.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	out := Fault{Error: j.Error, ErrorStatus: j.ErrorStatus, RateLimit: j.RateLimit, Ambiguous: j.Ambiguous,
		ProvisionFails: j.ProvisionFails, OrderItemsFail: j.OrderItemsFail, Times: j.Times}
	var err error
	if j.Latency != "" {
		if out.Latency, err = time.ParseDuration(j.Latency); err != nil {
			return fmt.Errorf("latency: %w", err)
		}
	}
	if j.RetryAfter != "" {
		if out.RetryAfter, err = time.ParseDuration(j.RetryAfter); err != nil {
			return fmt.Errorf("retryAfter: %w", err)
		}
	}
	if j.ReadLag != "" {
		if out.ReadLag, err = time.ParseDuration(j.ReadLag); err != nil || out.ReadLag < 0 {
			return fmt.Errorf("readLag: %q is not a duration of zero or more", j.ReadLag)
		}
	}
	for name, v := range map[string]float64{"error": out.Error, "rateLimit": out.RateLimit, "ambiguous": out.Ambiguous} {
		if v < 0 || v > 1 {
			return fmt.Errorf("%s: share %v is not between 0 and 1", name, v)
		}
	}
	if out.ErrorStatus != 0 && (out.ErrorStatus < 400 || out.ErrorStatus > 599) {
		return fmt.Errorf("errorStatus: %d is not an HTTP error status", out.ErrorStatus)
	}
	*f = out
	return nil
}
