package testkit

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// Proxy is a recording HTTP proxy in front of a registry, on a loopback
// port. It logs one line per request and can cut a blob download in the
// middle, to test that clients resume or fail cleanly.
type Proxy struct {
	Addr string // host:port
	Log  string // the log file: one line per request, see StartProxy

	srv  *http.Server
	mu   sync.Mutex
	logf *os.File
	cut  bool // the one cut has happened (under mu)
	opts ProxyOptions
}

// ProxyOptions configure StartProxy.
type ProxyOptions struct {
	// CutAfter, when > 0, cuts the connection of the first blob download
	// (GET …/blobs/…) to reach CutAfter bytes of its body, there; once.
	CutAfter int64
	// OnCut runs at the cut, before the connection is closed (a test stops
	// or restarts the registry there).
	OnCut func()
}

// StartProxy starts a proxy forwarding to upstream (host:port), logging to
// logFile. The Host header is kept, so the registry's Location headers
// point at the proxy. Log lines read
//
//	METHOD PATH range=RANGE status=STATUS bytes=N [cut]
//
// where RANGE is the request's Range header ("-" without one), N counts the
// body bytes sent, and "cut" marks the response that was cut.
func StartProxy(upstream, logFile string, opts ProxyOptions) (*Proxy, error) {
	l, logf, err := listenLogged(logFile)
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: l.Addr().String(), Log: logFile, logf: logf, opts: opts}
	rp := reverseProxy(upstream)
	rp.ModifyResponse = p.modify
	p.srv = serve(l, p.record(rp))
	return p, nil
}

// Stop closes the proxy and its connections.
func (p *Proxy) Stop() {
	p.srv.Close()
	p.mu.Lock()
	p.logf.Close()
	p.mu.Unlock()
}

func isBlobGet(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:")
}

// modify arms the cut on blob downloads longer than CutAfter (or of
// unknown length) until one of them has been cut.
func (p *Proxy) modify(resp *http.Response) error {
	if p.opts.CutAfter <= 0 || !isBlobGet(resp.Request) || (resp.ContentLength >= 0 && resp.ContentLength <= p.opts.CutAfter) {
		return nil
	}
	p.mu.Lock()
	done := p.cut
	p.mu.Unlock()
	if !done {
		mark, _ := resp.Request.Context().Value(cutKey{}).(*atomic.Bool)
		resp.Body = &cutBody{ReadCloser: resp.Body, left: p.opts.CutAfter, p: p, mark: mark}
	}
	return nil
}

// cutKey holds, in a request's context, the flag record logs as "cut".
type cutKey struct{}

// cutBody cuts its body after left bytes, unless another body was cut
// first.
type cutBody struct {
	io.ReadCloser
	left int64
	p    *Proxy
	mark *atomic.Bool
}

var errCut = fmt.Errorf("cut by the test proxy")

func (c *cutBody) Read(b []byte) (int, error) {
	if c.left <= 0 {
		c.p.mu.Lock()
		first := !c.p.cut
		c.p.cut = true
		c.p.mu.Unlock()
		if !first {
			c.left = math.MaxInt64
			return c.ReadCloser.Read(b)
		}
		if c.p.opts.OnCut != nil {
			c.p.opts.OnCut()
		}
		if c.mark != nil {
			c.mark.Store(true)
		}
		return 0, errCut
	}
	if int64(len(b)) > c.left {
		b = b[:c.left]
	}
	n, err := c.ReadCloser.Read(b)
	c.left -= int64(n)
	return n, err
}

// record logs each request once its response is done (or cut).
func (p *Proxy) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &recorder{ResponseWriter: w, status: http.StatusOK}
		r = r.WithContext(context.WithValue(r.Context(), cutKey{}, &rw.cut))
		rg := r.Header.Get("Range")
		if rg == "" {
			rg = "-"
		}
		defer func() {
			line := fmt.Sprintf("%s %s range=%s status=%d bytes=%d", r.Method, r.URL.Path, rg, rw.status, rw.n)
			if rw.cut.Load() {
				line += " cut"
			}
			p.mu.Lock()
			fmt.Fprintln(p.logf, line)
			p.mu.Unlock()
		}()
		next.ServeHTTP(rw, r)
	})
}

type recorder struct {
	http.ResponseWriter
	status int
	n      int64
	cut    atomic.Bool
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.n += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
