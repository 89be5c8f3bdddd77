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

// errStalled: nothing moved on a request for Options.IdleTimeout.
var errStalled = errors.New("no data")

// stallError is the error of a stalled request. It is a timeout, so that
// it is retried, and a blob resumed, as a cut connection is.
type stallError struct{ idle time.Duration }

func (e *stallError) Error() string   { return fmt.Sprintf("%v for %s", errStalled, e.idle) }
func (e *stallError) Unwrap() error   { return errStalled }
func (e *stallError) Timeout() bool   { return true }
func (e *stallError) Temporary() bool { return true }

// idleGuard is the transport under every request, to the registry, its
// token server or wherever they redirect: a request on which nothing
// moves for idle is cancelled and fails with a *stallError. Nothing moves
// when the request's body is not taken (a registry that stops reading an
// upload), no response comes, or the response body delivers nothing while
// it is read (a manifest, token or blob that stops half-way). Without it a
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
	w := &watchdog{idle: g.idle}
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
	resp.Body = &receivedBody{ReadCloser: resp.Body, w: w, cancel: cancel}
	return resp, nil
}

// watchdog cancels a request once its timer runs out; the timer runs
// while the request is sent and answered, and while its response body is
// read.
type watchdog struct {
	idle     time.Duration
	timer    *time.Timer
	fired    atomic.Bool
	answered atomic.Bool // the response came: the body sent no longer counts
}

// explain turns the error of a request the watchdog cancelled into a
// *stallError.
func (w *watchdog) explain(err error) error {
	if err != nil && err != io.EOF && w.fired.Load() {
		return &stallError{idle: w.idle}
	}
	return err
}

// sentBody is a request body; each read of it by the transport shows the
// upload moves.
type sentBody struct {
	io.ReadCloser
	w *watchdog
}

func (b *sentBody) Read(p []byte) (int, error) {
	if !b.w.answered.Load() {
		b.w.timer.Reset(b.w.idle)
	}
	return b.ReadCloser.Read(p)
}

// receivedBody is a response body, timed while it is read.
type receivedBody struct {
	io.ReadCloser
	w      *watchdog
	cancel context.CancelFunc
}

func (b *receivedBody) Read(p []byte) (int, error) {
	if b.w.fired.Load() {
		return 0, &stallError{idle: b.w.idle}
	}
	b.w.timer.Reset(b.w.idle)
	n, err := b.ReadCloser.Read(p)
	b.w.timer.Stop()
	return n, b.w.explain(err)
}

func (b *receivedBody) Close() error {
	b.w.timer.Stop()
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
