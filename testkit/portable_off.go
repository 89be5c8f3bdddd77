//go:build !dockertools_portable

package testkit

// portableBuild: this build takes Linux's paths on Linux (the condition
// [portable] of the scripts).
const portableBuild = false
