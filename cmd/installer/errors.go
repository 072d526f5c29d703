package main

import "errors"

// errUsage marks a command line that could not be understood; main exits with status 2, as
// command-line tools do for bad usage, so scripts can tell it from a failure to start.
var errUsage = errors.New("usage")
