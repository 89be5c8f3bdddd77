//go:build 386 || arm || mips || mipsle

package graphplan

import (
	"errors"
	"io"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// spaces is an endless run of JSON whitespace: a document that began
// right ("[") and never ends.
type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// TestEndlessDocumentBoundFits: a piped graph that begins as JSON and
// never ends is refused at the real bound, which this machine's memory
// holds. A 32-bit program panicked (makeslice: len out of range) growing
// its buffer past 1 GiB, short of the 2 GiB bound a 64-bit one has. On
// 64 bits the bound takes 4.5 GB to reach, too much for a test, so this
// file is built for 32-bit machines only: scripts/test-32bit (in make
// test) runs it as a 386 program.
func TestEndlessDocumentBoundFits(t *testing.T) {
	_, err := ReadGraph(io.MultiReader(strings.NewReader("["), spaces{}), "")
	if !errors.Is(err, errdefs.ErrTooLarge) {
		t.Fatalf("an endless graph: %v, want too large", err)
	}
}
