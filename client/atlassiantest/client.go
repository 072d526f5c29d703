package atlassiantest

import "github.com/procurement/atlassian-installer/client"

// Client returns a client of the started sandbox (URL must be set, as
// NewServer and Start do), authenticated with its first API key; opts come
// after and may override.
func (s *Server) Client(opts ...client.Option) (*client.Client, error) {
	base := []client.Option{client.WithBaseURL(s.URL), client.WithAPIKey(s.cfg.apiKeys[0])}
	return client.NewClient(append(base, opts...)...)
}
