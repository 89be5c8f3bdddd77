package cli

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// ExchangeDirs swaps the directories a and b in one rename (Linux's
// renameat2 RENAME_EXCHANGE): a reader of either name sees the old tree or
// the new one, never a missing or half-written one. Both must exist on the
// same file system.
func ExchangeDirs(a, b string) error {
	if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
		return fmt.Errorf("exchanging %s and %s: %w", a, b, err)
	}
	return nil
}
