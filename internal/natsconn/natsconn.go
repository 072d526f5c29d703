// Package natsconn holds how the installer and installctl reach NATS: server URLs,
// authentication (credentials file, nkey seed, user and password, token), TLS (the CA that
// verifies the server, a client certificate for mutual TLS), the inbox prefix, and the
// nats CLI's contexts, turned into nats.go options.
//
//	s, _, err := natsconn.LoadContext("prod", os.Getenv) // ~/.config/nats/context/prod.json
//	s = natsconn.Settings{Creds: "/etc/installer.creds"}.Over(s) // explicit settings win
//	opts, err := s.Options()
//	nc, err := nats.Connect(s.URL, append(opts, nats.Name("me"))...)
package natsconn

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Settings say how to connect. Each field has the name the nats CLI's context files give it
// (see Field). Password and Token are secrets: every way of printing Settings masks them.
type Settings struct {
	URL string // server URLs, comma-separated
	// Authentication: one of Creds, NKey, User (with Password), Token.
	Creds    string // credentials file (user JWT and nkey seed)
	NKey     string // nkey seed file
	User     string
	Password string
	Token    string
	// TLS: CA verifies the server; Cert and Key, together, are the client's certificate.
	CA   string
	Cert string
	Key  string
	// TLSFirst does the TLS handshake before the server's INFO (servers with handshake_first).
	TLSFirst bool
	// InboxPrefix replaces _INBOX as the prefix of reply subjects, so that a server can grant
	// each user its own inboxes only.
	InboxPrefix string
	// JSDomain or JSAPIPrefix select the JetStream of another domain or account.
	JSDomain    string
	JSAPIPrefix string
}

// Error is a setting that cannot be used; Field is its name in a context file.
type Error struct {
	Field string
	Err   error
}

func (e *Error) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func fieldError(field string, err error) error { return &Error{Field: field, Err: err} }

// hasAuth and hasCert tell whether the settings choose an authentication, a client certificate.
func (s Settings) hasAuth() bool {
	return s.Creds != "" || s.NKey != "" || s.User != "" || s.Password != "" || s.Token != ""
}
func (s Settings) hasCert() bool { return s.Cert != "" || s.Key != "" }

// Over returns s over base: every field s sets wins. The authentication and the client
// certificate are taken whole: a credentials file in s drops base's user, password, token and
// nkey, and a certificate in s drops base's key, so that no mixed pair is ever tried.
func (s Settings) Over(base Settings) Settings {
	out := base
	if s.URL != "" {
		out.URL = s.URL
	}
	if s.hasAuth() {
		out.Creds, out.NKey, out.User, out.Password, out.Token = s.Creds, s.NKey, s.User, s.Password, s.Token
	}
	if s.hasCert() {
		out.Cert, out.Key = s.Cert, s.Key
	}
	for _, f := range []struct{ dst, src *string }{
		{&out.CA, &s.CA}, {&out.InboxPrefix, &s.InboxPrefix}, {&out.JSDomain, &s.JSDomain}, {&out.JSAPIPrefix, &s.JSAPIPrefix},
	} {
		if *f.src != "" {
			*f.dst = *f.src
		}
	}
	out.TLSFirst = out.TLSFirst || s.TLSFirst
	return out
}

// Options turns the settings into nats.go options, checking each one as nats.go would at
// connect time: files are read (a CA that holds no certificate, a key that does not match its
// certificate, a seed file without a user seed are errors), and the settings agree with each
// other. Errors are *Error, naming the field; they never carry a file's content or a secret.
func (s Settings) Options() ([]nats.Option, error) {
	var opts []nats.Option
	add := func(field string, o nats.Option) error {
		if err := o(&nats.Options{}); err != nil {
			return fieldError(field, err)
		}
		opts = append(opts, o)
		return nil
	}
	methods := 0
	for _, v := range []string{s.Creds, s.NKey, s.User, s.Token} {
		if v != "" {
			methods++
		}
	}
	switch {
	case methods > 1:
		return nil, fieldError("creds", errors.New("more than one authentication given: choose one of a credentials file, an nkey seed, a user and password, a token"))
	case s.Password != "" && s.User == "":
		return nil, fieldError("password", errors.New("given without a user"))
	case s.Cert != "" && s.Key == "":
		return nil, fieldError("key", errors.New("the client certificate's key is missing"))
	case s.Key != "" && s.Cert == "":
		return nil, fieldError("cert", errors.New("the client key's certificate is missing"))
	case s.JSDomain != "" && s.JSAPIPrefix != "":
		return nil, fieldError("jetstream_domain", errors.New("given together with jetstream_api_prefix: choose one"))
	}
	var err error
	switch {
	case s.Creds != "":
		err = add("creds", nats.UserCredentials(s.Creds))
	case s.NKey != "":
		var o nats.Option
		if o, err = nats.NkeyOptionFromSeed(s.NKey); err != nil {
			err = fieldError("nkey", err)
		} else {
			err = add("nkey", o)
		}
	case s.User != "":
		err = add("user", nats.UserInfo(s.User, s.Password))
	case s.Token != "":
		err = add("token", nats.Token(s.Token))
	}
	if err == nil && s.Cert != "" {
		err = add("cert", nats.ClientCert(s.Cert, s.Key))
	}
	if err == nil && s.CA != "" {
		err = add("ca", nats.RootCAs(s.CA))
	}
	if err == nil && s.InboxPrefix != "" {
		err = add("inbox_prefix", nats.CustomInboxPrefix(s.InboxPrefix))
	}
	if err == nil && s.TLSFirst {
		err = add("tls_first", nats.TLSHandshakeFirst())
	}
	if err != nil {
		return nil, err
	}
	return opts, nil
}

// JetStream is the JetStream API of the connection, in the configured domain or under the
// configured API prefix.
func (s Settings) JetStream(nc *nats.Conn) (jetstream.JetStream, error) {
	switch {
	case s.JSDomain != "":
		return jetstream.NewWithDomain(nc, s.JSDomain)
	case s.JSAPIPrefix != "":
		return jetstream.NewWithAPIPrefix(nc, s.JSAPIPrefix)
	}
	return jetstream.New(nc)
}

const redacted = "[REDACTED]"

func mask(v string) string {
	if v == "" {
		return ""
	}
	return redacted
}

// LogValue shows the settings with Password and Token masked.
func (s Settings) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, f := range []struct{ k, v string }{
		{"url", s.URL}, {"creds", s.Creds}, {"nkey", s.NKey}, {"user", s.User},
		{"password", mask(s.Password)}, {"token", mask(s.Token)}, {"ca", s.CA}, {"cert", s.Cert},
		{"key", s.Key}, {"inbox_prefix", s.InboxPrefix}, {"jetstream_domain", s.JSDomain},
		{"jetstream_api_prefix", s.JSAPIPrefix},
	} {
		if f.v != "" {
			attrs = append(attrs, slog.String(f.k, f.v))
		}
	}
	if s.TLSFirst {
		attrs = append(attrs, slog.Bool("tls_first", true))
	}
	return slog.GroupValue(attrs...)
}

// String masks the secrets, which also covers %v and %+v.
func (s Settings) String() string { return s.LogValue().String() }

// GoString masks the secrets for %#v.
func (s Settings) GoString() string { return "natsconn.Settings" + s.String() }

// Format masks the secrets for every verb.
func (s Settings) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}
	_, _ = f.Write([]byte(s.String()))
}
