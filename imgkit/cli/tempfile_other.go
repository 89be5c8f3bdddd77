//go:build !linux

package cli

import "os"

// namelessTemp: only Linux makes files without a name (O_TMPFILE).
func namelessTemp(dir, prefix string) (*os.File, bool) { return nil, false }
