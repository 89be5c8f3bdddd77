//go:build !linux

package cli

import "io"

// isTerminal is false where terminals are not asked about: the tools
// refuse a terminal stdout on Linux.
func isTerminal(io.Writer) bool { return false }
