//go:build !linux

package storefs

// setPortable does nothing: off Linux the portable walk is the only one.
func setPortable(bool) (restore func()) { return func() {} }
