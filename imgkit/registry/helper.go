package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// helperRunner runs Docker credential helpers: `docker-credential-NAME
// get`, the server on stdin, {"Username": …, "Secret": …} on stdout (a
// Username of "<token>" makes Secret an identity token), or "credentials
// not found in native keychain" and a failure when it has none. Unlike
// Docker, it bounds them: a helper that does not answer within timeout
// (one waiting for a keyring to be unlocked, or for a login in a browser)
// is killed and the pull fails saying so, and an answer longer than
// maxHelperOutput fails too (go-containerregistry kept all of it in
// memory).
type helperRunner struct {
	timeout time.Duration
}

// maxHelperOutput bounds what a helper may print: credentials are a few
// hundred bytes, a cloud's identity token a few KiB.
const maxHelperOutput = 64 << 10

// helperNotFound is the answer of a helper that holds nothing for a server.
const helperNotFound = "credentials not found in native keychain"

func (r helperRunner) get(ctx context.Context, helper, server string) (authn.AuthConfig, error) {
	prog := "docker-credential-" + helper
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, "get")
	cmd.Stdin = strings.NewReader(server)
	out := &boundedBuffer{max: maxHelperOutput, full: cancel}
	msg := &boundedBuffer{max: maxHelperOutput, full: cancel}
	cmd.Stdout, cmd.Stderr = out, msg
	// The helper is killed, not its children: it stays in our process
	// group, so that one asking for a passphrase on the terminal still
	// can. A child left holding its output open is not waited for.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil // the helper answered and exited well; a child kept its output
	}
	answer := strings.TrimSpace(out.String())
	switch {
	case out.overflow || msg.overflow:
		return authn.AuthConfig{}, fmt.Errorf("credential helper %s: more than %d bytes of output", prog, maxHelperOutput)
	case err == nil:
		// It answered: read below.
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return authn.AuthConfig{}, fmt.Errorf("credential helper %s: no answer in %s", prog, r.timeout)
	case errors.Is(err, exec.ErrNotFound):
		return authn.AuthConfig{}, fmt.Errorf("credential helper %s: not found on PATH", prog)
	case answer == helperNotFound:
		return authn.AuthConfig{}, nil
	default:
		// What a failing helper prints, on stdout as Docker's helpers do
		// or else on stderr, is its error message (cut to one line and a
		// few hundred bytes when shown); but JSON on stdout may be
		// credentials, and is not shown.
		if answer == "" || strings.HasPrefix(answer, "{") {
			answer = strings.TrimSpace(msg.String())
		}
		if first, _, _ := strings.Cut(answer, "\n"); first != "" {
			err = fmt.Errorf("%w: %s", err, Shown(first))
		}
		return authn.AuthConfig{}, fmt.Errorf("credential helper %s: %w", prog, err)
	}
	var creds struct{ Username, Secret string }
	if json.Unmarshal(out.buf.Bytes(), &creds) != nil {
		// Never quoted: it may be credentials in a form we do not read.
		return authn.AuthConfig{}, fmt.Errorf("credential helper %s: its answer is not JSON credentials", prog)
	}
	if creds.Username == "<token>" {
		return authn.AuthConfig{IdentityToken: creds.Secret}, nil
	}
	return authn.AuthConfig{Username: creds.Username, Password: creds.Secret}, nil
}

// boundedBuffer keeps at most max bytes; past that it calls full (which
// kills the helper) and refuses what comes. (It does not embed the
// bytes.Buffer: io.Copy would use the buffer's ReadFrom, unbounded.)
type boundedBuffer struct {
	buf      bytes.Buffer
	max      int
	full     func()
	overflow bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if b.buf.Len()+len(p) > b.max {
		b.overflow = true
		b.full()
		return 0, errors.New("too much output")
	}
	return b.buf.Write(p)
}

func (b *boundedBuffer) String() string { return b.buf.String() }
