//go:build !linux

package cli

import "testing"

// eachWay runs f: off Linux the files are made one way.
func eachWay(t *testing.T, f func(t *testing.T)) { f(t) }
