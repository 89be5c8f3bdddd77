//go:build !linux

package cli

// isTerminal is false where terminals are not asked about: the tools
// refuse a terminal stdin or stdout on Linux.
func isTerminal(any) bool { return false }
