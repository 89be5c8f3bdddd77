package registry

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
func (rc *repoClient) explain(err error) error {
	switch {
	case !errors.Is(err, ErrUnauthorized):
		return err
	case rc.anonymous:
		return fmt.Errorf("%w; give credentials with --creds or in Docker's config.json", err)
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
			parts = append(parts, fmt.Sprintf("%s: %s", d.Code, d.Message))
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
			return fmt.Errorf("%s %s: %w", ue.Op, u.Redacted(), ue.Err)
		}
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
