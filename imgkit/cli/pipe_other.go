//go:build !linux

package cli

import "io"

// GrowPipe does nothing where pipes cannot be resized.
func GrowPipe(io.Writer, int) {}
