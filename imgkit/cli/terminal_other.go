//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package cli

// isTerminal is false where terminals are not asked about: the tools
// refuse a terminal stdin or stdout on Linux, macOS and the BSDs.
func isTerminal(any) bool { return false }
