package registry

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"dockertools.dev/imgkit/errdefs"
)

// ErrUnauthorized: the registry refused the credentials, or wants some and
// none were found.
var ErrUnauthorized = errors.New("not authorized")

// ErrUnsupported: a manifest or media type this package does not handle
// (Docker's schema 1, foreign layer types).
var ErrUnsupported = errors.New("unsupported")

// explain adds to a refusal what to do about it, which depends on whether
// credentials were sent.
func (rc *repoClient) explain(err error) error { return explain(err, rc.anonymous) }

func explain(err error, anonymous bool) error {
	switch {
	case !errors.Is(err, ErrUnauthorized):
		return err
	case anonymous:
		return fmt.Errorf("%w; give credentials with --creds, or log in (docker login, podman login)", err)
	}
	return fmt.Errorf("%w; the registry refused the credentials given", err)
}

// describe turns an error of the registry's transport into one line that
// callers can match with errors.Is: a registry status becomes a sentinel
// (401/403 ErrUnauthorized, 404 errdefs.ErrNotFound) followed by the codes
// and messages of its error body; URLs lose their query strings.
func describe(err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		var parts []string
		for _, d := range te.Errors {
			parts = append(parts, fmt.Sprintf("%s: %s", Shown(string(d.Code)), Shown(d.Message)))
		}
		msg := strings.Join(parts, "; ")
		if msg == "" {
			msg = fmt.Sprintf("HTTP %d %s", te.StatusCode, http.StatusText(te.StatusCode))
		}
		switch te.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("%w (%s)", ErrUnauthorized, msg)
		case http.StatusForbidden:
			return fmt.Errorf("%w (%s)", ErrUnauthorized, msg)
		case http.StatusNotFound:
			return fmt.Errorf("%w (%s)", errdefs.ErrNotFound, msg)
		}
		return errors.New(msg)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// "Get URL: cause" with the URL's query (signatures of pre-signed
		// redirects) removed.
		u, perr := url.Parse(ue.URL)
		if perr == nil {
			u.RawQuery, u.User = "", nil
			return fmt.Errorf("%s %s: %w", ue.Op, Shown(u.Redacted()), hideTokenAnswer(ue.Err))
		}
		return fmt.Errorf("%s: %w", ue.Op, hideTokenAnswer(ue.Err))
	}
	err = hideTokenAnswer(err)
	if msg := err.Error(); errdefs.Printable(msg, maxMessage) != msg {
		// go-containerregistry quotes what a registry said in some
		// errors (the parameters of a malformed challenge; a token
		// service's answer, hideTokenAnswer drops).
		return &shownError{err: err, msg: errdefs.Printable(msg, maxMessage)}
	}
	return err
}

// noTokenAnswer starts go-containerregistry's error for a token service's
// answer with neither "token" nor "access_token"; the whole answer follows.
const noTokenAnswer = "no token in bearer response"

// hideTokenAnswer drops the token service's answer from err's message: it
// may hold credentials (a refresh token, a token under another name) and
// the error line goes to terminals and CI logs. errors.Is and errors.As
// still see err.
func hideTokenAnswer(err error) error {
	msg := err.Error()
	i := strings.Index(msg, noTokenAnswer)
	if i < 0 {
		return err
	}
	return &shownError{err: err, msg: msg[:i] + "the token service's answer holds no token (not shown: it may hold credentials)"}
}

// maxMessage bounds an error message that quotes a registry.
const maxMessage = 1024

// Shown is how text from a registry (an error code or message, a URL it
// redirected to, a platform in its manifest list or an image's config)
// appears in a message: as
// it is, unless it holds what needs quoting (a newline would split the
// error line, a carriage return or an escape sequence would rewrite it on
// a terminal) or is long: then quoted and cut as errdefs.Quote does.
func Shown(s string) string {
	if len(s) <= errdefs.MaxQuoted && strconv.Quote(s) == `"`+s+`"` {
		return s
	}
	return errdefs.Quote(s)
}

// shownError is an error whose message is made printable; errors.Is
// and errors.As still see the error.
type shownError struct {
	err error
	msg string
}

func (e *shownError) Error() string { return e.msg }
func (e *shownError) Unwrap() error { return e.err }
