package registry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// retryStatusCodes are the statuses that are tried again: the server or a
// proxy in front of it is overloaded, restarting or timed out.
var retryStatusCodes = []int{
	http.StatusRequestTimeout,
	http.StatusTooManyRequests,
	http.StatusInternalServerError,
	http.StatusBadGateway,
	http.StatusServiceUnavailable,
	http.StatusGatewayTimeout,
}

// retryable reports whether a request that failed with err is worth
// trying again: network failures (refused, reset, cut, timed out) are;
// an interrupted caller, a refused certificate or a bad URL are not.
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var temp interface{ Temporary() bool }
	var ne net.Error
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return true
	case errors.As(err, &ne) && ne.Timeout():
		return true
	case errors.As(err, &temp) && temp.Temporary():
		return true
	}
	return false
}

func (c *Client) backoff() remote.Backoff {
	return remote.Backoff{Duration: c.opts.Backoff, Factor: 2, Jitter: 0.1, Steps: c.opts.Retries + 1}
}

// wait sleeps before try number n (1 for the first retry), or returns
// early with the context's error.
func (c *Client) wait(ctx context.Context, n int) error {
	d := c.opts.Backoff << (n - 1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
