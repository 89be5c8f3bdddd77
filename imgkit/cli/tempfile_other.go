//go:build !linux

package cli

import "os"

// namelessTemp: only Linux makes files without a name (O_TMPFILE).
func namelessTemp(dir, prefix string) (*os.File, bool) { return nil, false }

// namelessFile: only Linux makes files without a name (O_TMPFILE).
func namelessFile(dir, shown string) (*os.File, bool) { return nil, false }

// linkTemp: there is no nameless file to link.
func linkTemp(f *os.File, dir, prefix string) (string, error) { return "", os.ErrInvalid }
