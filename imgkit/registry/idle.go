package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// errStalled: nothing moved on a request for Options.IdleTimeout, or
// less than minRate allows.
var errStalled = errors.New("no data")

// minRate is the slowest a request's body may move, in bytes a second:
// fewer than minRate×Options.IdleTimeout bytes in that much time spent
// waiting on the connection stall the request as no data does. Without it
// a registry that trickles a byte just inside the idle time keeps a pull
// or a push going for years; 1 KiB/s is far below any real link (curl's
// --speed-limit is the same idea).
const minRate = 1024

// stallError is the error of a stalled request. It is a timeout, so that
// it is retried, and a blob resumed, as a cut connection is.
type stallError struct {
	idle time.Duration
	slow bool // some data, below minRate
}

func (e *stallError) Error() string {
	if e.slow {
		return fmt.Sprintf("less than %d bytes in %s", minBytes(e.idle), e.idle)
	}
	return fmt.Sprintf("%v for %s", errStalled, e.idle)
}
func (e *stallError) Unwrap() error   { return errStalled }
func (e *stallError) Timeout() bool   { return true }
func (e *stallError) Temporary() bool { return true }

// idleGuard is the transport under every request, to the registry, its
// token server or wherever they redirect: a request on which nothing
// moves for idle is cancelled and fails with a *stallError. Nothing moves
// when the request's body is not taken (a registry that stops reading an
// upload), no response comes, or the response body delivers nothing while
// it is read (a manifest, token or blob that stops half-way); and a body
// that moves slower than minRate (pace) is stalled too. Without it a
// registry that stops answering keeps a pull or a push waiting forever:
// the HTTP transport bounds neither an upload nor the reading of a body.
// Time the caller spends between reads of the response body does not
// count.
type idleGuard struct {
	next http.RoundTripper
	idle time.Duration
}

func (g idleGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	w := &watchdog{idle: g.idle, cancel: cancel}
	w.timer = time.AfterFunc(g.idle, func() { w.fired.Store(true); cancel() })
	req = req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = &sentBody{ReadCloser: req.Body, w: w}
		if get := req.GetBody; get != nil {
			// The transport sends the body again from GetBody when a
			// kept-alive connection turns out closed.
			req.GetBody = func() (io.ReadCloser, error) {
				body, err := get()
				if err != nil {
					return nil, err
				}
				return &sentBody{ReadCloser: body, w: w}, nil
			}
		}
	}
	resp, err := g.next.RoundTrip(req)
	w.answered.Store(true)
	w.timer.Stop()
	if err != nil {
		cancel()
		return nil, w.explain(err)
	}
	resp.Body = &receivedBody{ReadCloser: resp.Body, w: w}
	return resp, nil
}

// watchdog cancels a request once its timer runs out; the timer runs
// while the request is sent and answered, and while its response body is
// read.
type watchdog struct {
	idle     time.Duration
	timer    *time.Timer
	fired    atomic.Bool
	slow     atomic.Bool // fired by a pace, not the timer
	answered atomic.Bool // the response came: the body sent no longer counts
	cancel   context.CancelFunc
}

// explain turns the error of a request the watchdog cancelled into a
// *stallError.
func (w *watchdog) explain(err error) error {
	if err != nil && err != io.EOF && w.fired.Load() {
		return &stallError{idle: w.idle, slow: w.slow.Load()}
	}
	return err
}

// tooSlow cancels the request for moving slower than minRate.
func (w *watchdog) tooSlow() error {
	w.slow.Store(true)
	w.fired.Store(true)
	w.cancel()
	return &stallError{idle: w.idle, slow: true}
}

// minBytes is the least a body must move in idle of waiting.
func minBytes(idle time.Duration) int64 { return int64(minRate * idle.Seconds()) }

// pace measures one body's rate: the time spent waiting on the
// connection, and the bytes moved in it, a span of idle at a time.
type pace struct {
	spent time.Duration
	moved int64
}

// add counts n bytes moved in d, and reports false when a span of idle
// has passed with fewer than minBytes moved.
func (p *pace) add(idle, d time.Duration, n int) bool {
	p.spent += d
	p.moved += int64(n)
	if p.spent < idle {
		return true
	}
	ok := p.moved >= minBytes(idle)
	p.spent, p.moved = 0, 0
	return ok
}

// sentBody is a request body; each read of it by the transport shows the
// upload moves. The time from the end of one read to the next is the
// time the transport took to send what the first gave it.
type sentBody struct {
	io.ReadCloser
	w     *watchdog
	pace  pace
	given int       // bytes the last read gave
	end   time.Time // when it ended
}

func (b *sentBody) Read(p []byte) (int, error) {
	if !b.w.answered.Load() {
		b.w.timer.Reset(b.w.idle)
		if !b.end.IsZero() && !b.pace.add(b.w.idle, time.Since(b.end), b.given) {
			return 0, b.w.tooSlow()
		}
	}
	n, err := b.ReadCloser.Read(p)
	b.given, b.end = n, time.Now()
	return n, err
}

// receivedBody is a response body, timed while it is read.
type receivedBody struct {
	io.ReadCloser
	w    *watchdog
	pace pace
}

func (b *receivedBody) Read(p []byte) (int, error) {
	if b.w.fired.Load() {
		return 0, &stallError{idle: b.w.idle, slow: b.w.slow.Load()}
	}
	b.w.timer.Reset(b.w.idle)
	start := time.Now()
	n, err := b.ReadCloser.Read(p)
	b.w.timer.Stop()
	if err == nil && !b.pace.add(b.w.idle, time.Since(start), n) {
		return n, b.w.tooSlow()
	}
	return n, b.w.explain(err)
}

func (b *receivedBody) Close() error {
	b.w.timer.Stop()
	err := b.ReadCloser.Close()
	b.w.cancel()
	return err
}
