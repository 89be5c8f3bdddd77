//go:build dockertools_portable

package offlinux

// Forced is true: this build takes the paths off Linux.
const Forced = true
