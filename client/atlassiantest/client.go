package atlassiantest

import "github.com/procurement/atlassian-installer/client"

// Client returns a client of the started sandbox (URL must be set, as
// NewServer and Start do), authenticated with its first API key; opts come
// after and may override.
func (s *Server) Client(opts ...client.Option) (*client.Client, error) {
	key := ""
	for _, c := range s.cfg.creds {
		if c.key != "" {
			key = c.key
			break
		}
	}
	base := []client.Option{client.WithBaseURL(s.URL), client.WithAPIKey(key)}
	return client.NewClient(append(base, opts...)...)
}
