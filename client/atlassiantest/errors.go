package atlassiantest

import "errors"

// ErrInvalidFixtures is returned (wrapped) by LoadFixtures and WithFixtures
// users when fixtures are inconsistent; the message names the field.
var ErrInvalidFixtures = errors.New("atlassiantest: invalid fixtures")

// ErrUnknownEndpoint is returned (wrapped) when a fault names an endpoint the
// sandbox does not serve.
var ErrUnknownEndpoint = errors.New("atlassiantest: unknown endpoint")
