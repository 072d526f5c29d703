package main

import (
	"errors"
	"fmt"
)

// Exit codes. Scripts tell a failed journey (1) from input installctl refused (2) and from a
// watch that gave up waiting (3).
const (
	exitOK      = 0
	exitFailed  = 1 // a journey ended in failed, or a command could not do its work
	exitInvalid = 2 // bad usage or an invalid request; nothing was published
	exitTimeout = 3 // --timeout passed before the request reached its terminal event
)

// exitError carries an exit code to run. A nil err means the command already said why on its
// output, so nothing more is printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// invalid marks err as the user's input being wrong.
func invalid(err error) error { return &exitError{code: exitInvalid, err: err} }

// invalidf is invalid with a formatted message.
func invalidf(format string, args ...any) error { return invalid(fmt.Errorf(format, args...)) }

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	if ee, ok := errors.AsType[*exitError](err); ok {
		return ee.code
	}
	return exitFailed
}
