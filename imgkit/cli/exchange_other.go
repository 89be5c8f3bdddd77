//go:build !linux

package cli

import (
	"errors"
	"fmt"
)

// ExchangeDirs needs Linux's renameat2: elsewhere a directory cannot be
// replaced in one step, and it is an error rather than a window in which
// b is missing.
func ExchangeDirs(a, b string) error {
	return fmt.Errorf("exchanging %s and %s: %w", a, b, errors.ErrUnsupported)
}

// MountRoot is false where Linux's statx cannot tell (ExchangeDirs fails
// there anyway).
func MountRoot(dir string) bool { return false }
