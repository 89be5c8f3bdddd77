// Package errdefs holds the error classes shared by every tool. Tools wrap
// them with context ("layer 2 sha256:ab12…: %w"), and tests match them with
// errors.Is.
package errdefs

import (
	"errors"
	"fmt"
)

// EmptyInput is what a tool says of a document it reads that holds
// nothing at all: in a pipeline that is almost always a stage before it
// that failed, whose own line is the one to read, and the words say so
// (a user of closure-scan | popularity | layer-pack | manifest-gen read
// three more "empty input" lines after closure-scan's as three faults).
const EmptyInput = "empty input (in a pipe: the command before this one wrote nothing; its own line says why)"

var (
	// ErrInvalidInput: input that does not follow its documented format
	// (a malformed graph, plan, stream or archive).
	ErrInvalidInput = errors.New("invalid input")
	// ErrNotFound: a named path, image, tag or blob that does not exist.
	ErrNotFound = errors.New("not found")
	// ErrOutsideStore: a path that is not inside the store directory.
	ErrOutsideStore = errors.New("not in the store directory")
	// ErrDigestMismatch: bytes whose digest or size is not the one announced.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrUnsafeEntry: an archive entry that would write outside the root,
	// follow a link out of it, or is of a refused type.
	ErrUnsafeEntry = errors.New("unsafe archive entry")
	// ErrChanged: a file that changed (size, type or existence) while it was
	// being read.
	ErrChanged = errors.New("changed while being read")
	// ErrTooManyLayers: more layers than the budget or runtimes allow.
	ErrTooManyLayers = errors.New("too many layers")
	// ErrTooLarge: input that expands past a documented bound (a
	// decompression bomb, a sparse file of a terabyte).
	ErrTooLarge = errors.New("too large")
)

// Bound is a limit on the bytes an input may expand to, with what sets it
// (a flag, "--max-expanded-bytes"), which the error names so a user with a
// real input that large knows what to raise.
type Bound struct {
	Max  int64
	Flag string
}

// Past returns the error for bytes that went past the bound: "expands
// past N bytes (FLAG)". It wraps ErrTooLarge.
func (b Bound) Past() error { return &pastError{b} }

type pastError struct{ b Bound }

func (e *pastError) Error() string {
	if e.b.Flag == "" {
		return fmt.Sprintf("expands past %d bytes", e.b.Max)
	}
	return fmt.Sprintf("expands past %d bytes (%s)", e.b.Max, e.b.Flag)
}

func (e *pastError) Unwrap() error { return ErrTooLarge }
