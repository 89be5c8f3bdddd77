package cli

import "testing"

// eachWay runs f as the tools make their files on Linux, and as they make
// them off Linux (portable).
func eachWay(t *testing.T, f func(t *testing.T)) {
	for _, way := range []struct {
		name     string
		portable bool
	}{{"linux", false}, {"portable", true}} {
		t.Run(way.name, func(t *testing.T) {
			was := portable
			portable = way.portable
			defer func() { portable = was }()
			f(t)
		})
	}
}
