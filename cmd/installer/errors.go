package main

import "errors"

var (
	// errUsage marks a command line that could not be understood; main exits with status 2, as
	// for a request file that fails validation (events.ErrInvalidRequest).
	errUsage = errors.New("usage")
	// errRequestFailed is returned by publish --watch when the request ends in a failed event.
	errRequestFailed = errors.New("request failed")
)
