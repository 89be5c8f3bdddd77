//go:build dockertools_portable

package testkit

// portableBuild: this build has the tag dockertools_portable, with which
// the tools take on Linux the paths they take off Linux (the condition
// [portable] of the scripts).
const portableBuild = true
