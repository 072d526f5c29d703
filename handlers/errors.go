package handlers

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidOption is wrapped by NewInstaller for a Config or API that cannot work;
	// the message names the field.
	ErrInvalidOption = errors.New("installer: invalid option")

	// ErrDraining is returned by a Delivery's step runner once the installer is draining:
	// no new step starts, and the message is handed back to JetStream.
	ErrDraining = errors.New("installer: draining")

	// errConflict reports a compare-and-set write that lost to another writer: the
	// journey re-reads its state and decides again, never repeating a step blindly.
	errConflict = errors.New("installer: journey state changed concurrently")
)

func invalidOption(msg string) error { return fmt.Errorf("%w: %s", ErrInvalidOption, msg) }
