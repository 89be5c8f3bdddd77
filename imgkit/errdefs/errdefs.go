// Package errdefs holds the error classes shared by every tool. Tools wrap
// them with context ("layer 2 sha256:ab12…: %w"), and tests match them with
// errors.Is.
package errdefs

import "errors"

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
)
