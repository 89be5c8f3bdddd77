package registry

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// Progress draws a one-line progress bar on a terminal: bytes done of the
// total, percentage and rate, redrawn five times a second and erased by
// Stop. A nil *Progress is valid and draws nothing, so callers need not
// check whether stderr is a terminal.
type Progress struct {
	w     io.Writer
	fd    int
	label string
	start time.Time
	total atomic.Int64
	done  atomic.Int64
	stop  chan struct{}
	wg    sync.WaitGroup
}

// NewProgress returns a progress bar on w, or nil when quiet is set or w
// is not a terminal (a pipe, a file, a test's buffer).
func NewProgress(w io.Writer, label string, quiet bool) *Progress {
	f, ok := w.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	p := &Progress{w: w, fd: int(f.Fd()), label: label, start: time.Now(), stop: make(chan struct{})}
	p.wg.Add(1)
	go p.loop()
	return p
}

func (p *Progress) loop() {
	defer p.wg.Done()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			fmt.Fprint(p.w, "\r\x1b[K")
			return
		case <-tick.C:
			width, _, err := term.GetSize(p.fd)
			if err != nil || width <= 0 {
				width = 80
			}
			fmt.Fprint(p.w, "\r"+ProgressLine(p.label, p.done.Load(), p.total.Load(), time.Since(p.start), width)+"\x1b[K")
		}
	}
}

// AddTotal adds n bytes to the amount expected.
func (p *Progress) AddTotal(n int64) {
	if p != nil {
		p.total.Add(n)
	}
}

// Add counts n bytes as done.
func (p *Progress) Add(n int64) {
	if p != nil {
		p.done.Add(n)
	}
}

// Reader returns r counting what is read through it as done.
func (p *Progress) Reader(r io.Reader) io.Reader {
	if p == nil {
		return r
	}
	return &countingReader{r: r, p: p}
}

// Stop erases the bar and ends its redrawing.
func (p *Progress) Stop() {
	if p == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
}

type countingReader struct {
	r io.Reader
	p *Progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.done.Add(int64(n))
	return n, err
}

// ProgressLine renders the bar for done of total bytes after elapsed, in at
// most width columns: "LABEL [=====>    ] 12.0 MiB / 40.0 MiB  30%  4.0 MiB/s".
func ProgressLine(label string, done, total int64, elapsed time.Duration, width int) string {
	rate := "-"
	if s := elapsed.Seconds(); s > 0 {
		rate = humanBytes(int64(float64(done)/s)) + "/s"
	}
	pct := 0
	if total > 0 {
		pct = int(done * 100 / total)
	}
	text := fmt.Sprintf(" %s / %s %3d%% %s", humanBytes(done), humanBytes(total), pct, rate)
	bar := width - len(label) - len(text) - 4
	if bar < 10 {
		return truncate(label+text, width-1)
	}
	fill := 0
	if total > 0 {
		fill = int(int64(bar) * min(done, total) / total)
	}
	return fmt.Sprintf("%s [%s%s]%s", label, strings.Repeat("=", fill), strings.Repeat(" ", bar-fill), text)
}

func truncate(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if len(s) > n {
		return s[:n]
	}
	return s
}

// humanBytes writes n in binary units with one decimal: "12.3 MiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}
