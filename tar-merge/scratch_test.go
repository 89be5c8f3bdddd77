package main

import (
	"os"
	"strings"
	"testing"

	"dockertools.dev/testkit"
)

func TestScratch(t *testing.T) {
	d := testkit.NeedDocker(t)
	var st testkit.Stack
	for _, spec := range strings.Split(os.Getenv("SPECS"), "\n--\n") {
		st.Layers = append(st.Layers, specLayer(spec).bytes(t))
	}
	compareStack(t, d, 999, st, true)
	logStack(t, st)
}
