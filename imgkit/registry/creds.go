package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
)

// ParseCreds turns a "USER:PASS" value into basic credentials. The password
// may contain colons; the user may not. Errors never repeat the value.
func ParseCreds(s string) (authn.Authenticator, error) {
	user, pass, ok := strings.Cut(s, ":")
	switch {
	case s == "":
		return nil, fmt.Errorf("credentials: want USER:PASS, the value is empty: %w", errdefs.ErrInvalidInput)
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

// CredsFlags are the credential flags of pull-blob and push-blob, to embed
// in a command: --creds, or --creds-file, which keeps the secret out of
// the process list.
//
// Both are pointers: an empty value given ("$CREDS" unset, as in a CI
// job that does not get the secret) is refused, where it read as no flag
// and the pull went on with whatever the keychain held, or anonymously.
type CredsFlags struct {
	Creds     *string `name:"creds" xor:"creds" placeholder:"USER:PASS" help:"Credentials for the registry (else Docker's config.json and credential helpers, or the auth.json skopeo and podman read; else anonymous). Other users see them in the process list: prefer --creds-file."`
	CredsFile *string `name:"creds-file" xor:"creds" placeholder:"FILE" help:"Read USER:PASS from FILE, one line (a descriptor too: /dev/stdin from a pipe, or /dev/fd/3 3<<EOF ... EOF, but not in mksh or zsh, which write a here-document into /tmp): credentials no other user sees."`
}

// Options returns the Options of the flags pull-blob and push-blob share
// (see FlagOptions). --creds-file is read by Credentials, in Run.
func (f CredsFlags) Options(tlsVerify bool, retries int) (Options, error) {
	creds := ""
	switch {
	case f.Creds != nil && *f.Creds == "":
		return Options{}, fmt.Errorf("--creds \"\": want USER:PASS (an unset variable?): %w", errdefs.ErrInvalidInput)
	case f.CredsFile != nil && *f.CredsFile == "":
		return Options{}, fmt.Errorf("--creds-file \"\": want a file (an unset variable?): %w", errdefs.ErrInvalidInput)
	case f.Creds != nil:
		creds = *f.Creds
	}
	return FlagOptions(tlsVerify, retries, creds)
}

// Credentials sets opts.Auth from --creds-file, when given. It is Run's
// to call, not Validate's: --check-flags reads nothing (and a descriptor
// read there would be spent). A file that is not one line USER:PASS is a
// usage error, as such a --creds is; one that cannot be read is not.
func (f CredsFlags) Credentials(ctx context.Context, opts *Options) error {
	if f.CredsFile == nil {
		return nil
	}
	auth, err := ReadCredsFile(ctx, *f.CredsFile)
	if errors.Is(err, errdefs.ErrInvalidInput) {
		return &cli.UsageError{Err: err}
	}
	if err != nil {
		return err
	}
	opts.Auth = auth
	return nil
}

// maxCredsFile bounds what ReadCredsFile reads: credentials are a line of
// a few hundred bytes, a token a few KiB; a file that does not end (a
// device, a pipe fed forever) is not read into memory.
const maxCredsFile = 64 << 10

// ReadCredsFile reads "USER:PASS" from path (--creds-file), one line, its
// end of line ("\n" or "\r\n") dropped, as docker login --password-stdin
// reads a password. The workflows in scripts/ pass credentials so, through
// a descriptor (/dev/fd/3): a command line is world-readable (ps,
// /proc/PID/cmdline), a descriptor and a file of mode 0600 are not.
// Errors never repeat what the file holds. The file is opened with
// cli.OpenInput: a descriptor's named pipe whose writer wrote and went
// before the tool started is read (opened again by its name in /dev/fd,
// a named pipe waited for a writer, for ever), and one whose writer
// stalls ends when ctx is cancelled.
func ReadCredsFile(ctx context.Context, path string) (authn.Authenticator, error) {
	f, err := cli.OpenInput(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("--creds-file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCredsFile+1))
	if err != nil {
		return nil, fmt.Errorf("--creds-file: %w", err)
	}
	if len(data) > maxCredsFile {
		return nil, fmt.Errorf("--creds-file: credentials: want one line USER:PASS, the file has more than %d bytes: %w", maxCredsFile, errdefs.ErrInvalidInput)
	}
	line := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if strings.ContainsAny(line, "\r\n") {
		return nil, fmt.Errorf("--creds-file: credentials: want one line USER:PASS, the file has more: %w", errdefs.ErrInvalidInput)
	}
	auth, err := ParseCreds(line)
	if err != nil {
		return nil, fmt.Errorf("--creds-file: %w", err)
	}
	return auth, nil
}
