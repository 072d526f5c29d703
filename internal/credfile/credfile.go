// Package credfile reads ATLASSIAN_CREDENTIALS_FILE, the Atlassian credentials of each
// organization an installer serves, and reloads it when it changes:
//
//	{"<orgId>": {"apiKey": "…"}, "<orgId>": {"email": "…", "apiToken": "…"}}
//
// Neither its errors nor its logs ever show a credential.
//
//	w, err := credfile.NewWatcher(path, log) // a bad file is an error
//	go w.Run(ctx, credfile.CheckInterval)    // or call w.Check() when you choose
//	creds, ok := w.Lookup(orgID)
package credfile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/procurement/atlassian-installer/client"
)

// CheckInterval is how often Run reads the file for changes.
const CheckInterval = 5 * time.Second

// maxOrgID bounds an organization id, as the contract bounds a request id.
const maxOrgID = 256

// entry is one organization's credentials as the file spells them.
type entry struct {
	APIKey   string `json:"apiKey"`
	Email    string `json:"email"`
	APIToken string `json:"apiToken"`
}

// Load reads the file at path and returns the credentials of each organization it names.
func Load(path string) (map[string]client.Credentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the credentials file: %w", err)
	}
	return Parse(data)
}

// Parse checks a credentials file and returns the credentials of each organization it
// names. Its errors name the organization and the field, never a value but the orgId.
func Parse(data []byte) (map[string]client.Credentials, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, syntaxError(err, "a JSON object of organizations")
	}
	if raw == nil {
		return nil, errors.New(`not a JSON object of organizations: {"<orgId>": {"apiKey": "…"}}`)
	}
	out := make(map[string]client.Credentials, len(raw))
	for _, org := range slices.Sorted(maps.Keys(raw)) {
		if err := checkOrgID(org); err != nil {
			return nil, err
		}
		cr, err := parseEntry(raw[org])
		if err != nil {
			return nil, fmt.Errorf("organization %q: %w", org, err)
		}
		out[org] = cr
	}
	return out, nil
}

func parseEntry(data []byte) (client.Credentials, error) {
	var e entry
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "" {
				return client.Credentials{}, errors.New(`not an object such as {"apiKey": "…"}`)
			}
			return client.Credentials{}, fmt.Errorf("%s is not a string", typeErr.Field)
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return client.Credentials{}, fmt.Errorf("unknown field %s (want apiKey, or email and apiToken)", name)
		}
		return client.Credentials{}, syntaxError(err, "an object")
	}
	var cr client.Credentials
	var err error
	switch {
	case e.APIKey != "" && (e.Email != "" || e.APIToken != ""):
		return cr, errors.New("give apiKey, or email and apiToken, not both")
	case e.APIKey != "":
		cr, err = client.APIKey(e.APIKey)
	case e.Email != "" && e.APIToken != "":
		cr, err = client.BasicAuth(e.Email, e.APIToken)
	case e.Email != "":
		return cr, errors.New("apiToken is required with email")
	case e.APIToken != "":
		return cr, errors.New("email is required with apiToken")
	default:
		return cr, errors.New("apiKey, or email and apiToken, is required")
	}
	if err != nil {
		// The client's message names the option it checked, never the value.
		msg := err.Error()
		return cr, errors.New(msg[strings.LastIndex(msg, ": ")+2:])
	}
	return cr, nil
}

// syntaxError reports malformed JSON by its position only: encoding/json's own message
// quotes the offending character, which may be part of a key.
func syntaxError(err error, want string) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("not valid JSON (at byte %d)", se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("not %s", want)
	}
	return fmt.Errorf("not %s: not valid JSON", want)
}

func checkOrgID(org string) error {
	switch {
	case strings.TrimSpace(org) == "":
		return errors.New("an organization id is empty")
	case len(org) > maxOrgID:
		return fmt.Errorf("an organization id is longer than %d characters", maxOrgID)
	case strings.ContainsFunc(org, unicode.IsControl):
		return errors.New("an organization id contains a control character")
	}
	return nil
}

// Watcher holds the credentials of a file and reloads them when the file changes. It is
// safe for concurrent use.
type Watcher struct {
	path string
	log  *slog.Logger

	mu    sync.RWMutex
	creds map[string]client.Credentials
	last  [sha256.Size]byte // of the content loaded last, to tell a change
}

// NewWatcher loads the file at path; a file that cannot be read or is wrong is an error.
func NewWatcher(path string, log *slog.Logger) (*Watcher, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the credentials file: %w", err)
	}
	creds, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Watcher{path: path, log: log, creds: creds, last: sha256.Sum256(data)}, nil
}

// Lookup returns the credentials of an organization the file names.
func (w *Watcher) Lookup(orgID string) (client.Credentials, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	cr, ok := w.creds[orgID]
	return cr, ok
}

// Check reads the file and, when its content changed, loads it. A file that cannot be read
// or is wrong is logged (never its content) and the credentials loaded before are kept. It
// reports whether new credentials were loaded.
func (w *Watcher) Check() bool {
	data, err := os.ReadFile(w.path)
	if err != nil {
		w.log.Warn("credentials file unreadable; keeping the credentials loaded before", "path", w.path, "error", err)
		return false
	}
	sum := sha256.Sum256(data)
	w.mu.RLock()
	same := sum == w.last
	w.mu.RUnlock()
	if same {
		return false
	}
	creds, err := Parse(data)
	if err != nil {
		w.mu.Lock()
		w.last = sum // logged once, not at every check
		w.mu.Unlock()
		w.log.Error("credentials file is wrong; keeping the credentials loaded before", "path", w.path, "error", err)
		return false
	}
	w.mu.Lock()
	w.creds, w.last = creds, sum
	w.mu.Unlock()
	w.log.Info("credentials file reloaded", "path", w.path, "organizations", len(creds))
	return true
}

// Run calls Check every interval until ctx ends.
func (w *Watcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.Check()
		}
	}
}
