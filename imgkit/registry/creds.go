package registry

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"

	"dockertools.dev/imgkit/errdefs"
)

// ParseCreds turns a "USER:PASS" value into basic credentials. The password
// may contain colons; the user may not. Errors never repeat the value.
func ParseCreds(s string) (authn.Authenticator, error) {
	user, pass, ok := strings.Cut(s, ":")
	switch {
	case !ok:
		return nil, fmt.Errorf("credentials: want USER:PASS, the value has no colon: %w", errdefs.ErrInvalidInput)
	case user == "":
		return nil, fmt.Errorf("credentials: want USER:PASS, the user is empty: %w", errdefs.ErrInvalidInput)
	case pass == "":
		return nil, fmt.Errorf("credentials: want USER:PASS, the password is empty: %w", errdefs.ErrInvalidInput)
	}
	return &authn.Basic{Username: user, Password: pass}, nil
}

// authenticator returns the credentials for res: the explicit ones when
// given, else what the keychain holds for it.
func (c *Client) authenticator(ctx context.Context, res authn.Resource) (authn.Authenticator, error) {
	if c.opts.Auth != nil {
		return c.opts.Auth, nil
	}
	kc := c.opts.Keychain
	if kc == nil {
		kc = fileKeychain{helper: helperRunner{timeout: c.opts.IdleTimeout}}
	}
	a, err := authn.Resolve(ctx, kc, res)
	if err != nil {
		// The keychain names the file and the cause, never a secret.
		return nil, fmt.Errorf("reading credentials for %s: %w", res.RegistryStr(), err)
	}
	return a, nil
}
