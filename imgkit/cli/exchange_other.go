//go:build !linux && !darwin

package cli

import (
	"errors"
	"fmt"
)

// ExchangeDirs needs Linux's renameat2 or macOS's renamex_np: elsewhere
// (FreeBSD) a directory cannot be replaced in one step, and it is an
// error rather than a window in which b is missing.
func ExchangeDirs(a, b string) error {
	return fmt.Errorf("exchanging %s and %s: %w", a, b, errors.ErrUnsupported)
}

// MountRoot says whether dir is the root of a mount, which no rename can
// replace: a directory on another device than its parent.
func MountRoot(dir string) bool { return otherDevice(dir) }
