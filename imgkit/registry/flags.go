package registry

import "fmt"

// FlagOptions returns the Options of the flags pull-blob and push-blob
// share: --tls-verify, --retries (0 meaning none, as the flag says) and
// --creds USER:PASS (empty: the keychain). The error is about --creds.
func FlagOptions(tlsVerify bool, retries int, creds string) (Options, error) {
	opts := Options{Insecure: !tlsVerify, Retries: retries}
	if opts.Retries == 0 {
		opts.Retries = -1 // Options: 0 means the default
	}
	if creds != "" {
		auth, err := ParseCreds(creds)
		if err != nil {
			return opts, fmt.Errorf("--creds: %w", err)
		}
		opts.Auth = auth
	}
	return opts, nil
}
