package natsconn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// contextFile is a nats CLI context as the CLI stores it (github.com/nats-io/jsm.go,
// natscontext). Fields the installer cannot honour are refused rather than ignored: a
// context that asks for a proxy or for nsc would otherwise connect differently than the CLI.
type contextFile struct {
	Description   string `json:"description"`
	URL           string `json:"url"`
	Token         string `json:"token"`
	User          string `json:"user"`
	Password      string `json:"password"`
	Creds         string `json:"creds"`
	NKey          string `json:"nkey"`
	Cert          string `json:"cert"`
	Key           string `json:"key"`
	CA            string `json:"ca"`
	JSDomain      string `json:"jetstream_domain"`
	JSAPIPrefix   string `json:"jetstream_api_prefix"`
	JSEventPrefix string `json:"jetstream_event_prefix"`
	InboxPrefix   string `json:"inbox_prefix"`
	ColorScheme   string `json:"color_scheme"`
	TLSFirst      bool   `json:"tls_first"`
	// Not supported.
	NSC          string   `json:"nsc"`
	SocksProxy   string   `json:"socks_proxy"`
	UserJWT      string   `json:"user_jwt"`
	WinCertStore string   `json:"windows_cert_store"`
	WinCertMatch string   `json:"windows_cert_match"`
	WinCAMatch   []string `json:"windows_ca_certs_match"`
}

// defaultURL is the nats CLI's server for a context that names none.
const defaultURL = "nats://127.0.0.1:4222"

// ContextDir is where the nats CLI keeps its contexts: $XDG_CONFIG_HOME/nats, or
// $HOME/.config/nats. The named contexts are context/NAME.json under it, and context.txt names
// the selected one.
func ContextDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "nats"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "nats"), nil
	}
	return "", errors.New("neither XDG_CONFIG_HOME nor HOME is set")
}

// LoadContext reads a nats CLI context as the CLI does: name is a context's name, or the
// absolute path of a context file; "" reads the context selected with `nats context select`,
// and gives zero Settings when none is. It returns the file it read. A context without a URL
// has the CLI's default, nats://127.0.0.1:4222. A leading ~/ in a file path is the home
// directory.
func LoadContext(name string, getenv func(string) string) (Settings, string, error) {
	path := name
	if !filepath.IsAbs(name) {
		dir, err := ContextDir(getenv)
		if err != nil {
			if name == "" {
				return Settings{}, "", nil
			}
			return Settings{}, "", fmt.Errorf("context %q: %w", name, err)
		}
		if name == "" {
			b, err := os.ReadFile(filepath.Join(dir, "context.txt"))
			if errors.Is(err, os.ErrNotExist) {
				return Settings{}, "", nil
			}
			if err != nil {
				return Settings{}, "", fmt.Errorf("selected context: %w", err)
			}
			if name = strings.TrimSpace(string(b)); name == "" {
				return Settings{}, "", nil
			}
		}
		if strings.Contains(name, "..") || strings.ContainsRune(name, os.PathSeparator) {
			return Settings{}, "", fmt.Errorf("invalid context name %q", name)
		}
		path = filepath.Join(dir, "context", name+".json")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Settings{}, path, fmt.Errorf("unknown context %q: no file %s", name, path)
	}
	if err != nil {
		return Settings{}, path, fmt.Errorf("context %q: %w", name, err)
	}
	var f contextFile
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		// The decoder's message may quote the file; a context holds passwords.
		return Settings{}, path, fmt.Errorf("context %q: %s is not a context file (JSON)", name, path)
	}
	for field, set := range map[string]bool{
		"nsc": f.NSC != "", "socks_proxy": f.SocksProxy != "", "user_jwt": f.UserJWT != "",
		"windows_cert_store": f.WinCertStore != "" || f.WinCertMatch != "" || len(f.WinCAMatch) > 0,
	} {
		if set {
			return Settings{}, path, fmt.Errorf("context %q: %w", name, fieldError(field, errors.New("not supported here: give a credentials file or nkey, and TLS files, instead")))
		}
	}
	home := getenv("HOME")
	s := Settings{
		URL: f.URL, Creds: expandHome(f.Creds, home), NKey: expandHome(f.NKey, home),
		User: f.User, Password: f.Password, Token: f.Token,
		CA: expandHome(f.CA, home), Cert: expandHome(f.Cert, home), Key: expandHome(f.Key, home),
		TLSFirst: f.TLSFirst, InboxPrefix: f.InboxPrefix, JSDomain: f.JSDomain, JSAPIPrefix: f.JSAPIPrefix,
	}
	if s.URL == "" {
		s.URL = defaultURL
	}
	return s, path, nil
}

func expandHome(p, home string) string {
	if home != "" && strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}
