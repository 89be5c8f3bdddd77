//go:build !dockertools_portable

package offlinux

// Forced is false: on Linux this build takes Linux's paths.
const Forced = false
