package registry

import (
	"bytes"
	"os"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		elapsed     time.Duration
		width       int
		want        string
	}{
		{0, 0, 0, 60, "pulling [                                ] 0 B / 0 B   0% -"},
		{3 << 20, 12 << 20, 2 * time.Second, 70, "pulling [======                   ] 3.0 MiB / 12.0 MiB  25% 1.5 MiB/s"},
		{12 << 20, 12 << 20, 4 * time.Second, 70, "pulling [========================] 12.0 MiB / 12.0 MiB 100% 3.0 MiB/s"},
		{5 << 30, 10 << 30, 10 * time.Second, 30, "pulling 5.0 GiB / 10.0 GiB  5"},
	} {
		got := ProgressLine("pulling", tc.done, tc.total, tc.elapsed, tc.width)
		if got != tc.want {
			t.Errorf("%d/%d:\n got %q\nwant %q", tc.done, tc.total, got, tc.want)
		}
		if len(got) >= tc.width {
			t.Errorf("%q is %d columns wide, the terminal %d", got, len(got), tc.width)
		}
	}
}

// The bar is drawn on terminals only: never into a pipe, a file or a
// buffer, and never with -q.
func TestProgressOnlyOnTerminals(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range []any{f, &bytes.Buffer{}} {
		if p := NewProgress(w.(interface{ Write([]byte) (int, error) }), "pulling", false); p != nil {
			p.Stop()
			t.Errorf("a progress bar on %T", w)
		}
	}
	var p *Progress // nil is a valid, silent bar
	p.AddTotal(1)
	p.Add(1)
	p.Stop()
}
