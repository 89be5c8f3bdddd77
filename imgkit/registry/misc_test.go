package registry

import (
	"github.com/google/go-containerregistry/pkg/authn"
)

// emptyKeychain keeps the tests away from the host's Docker config.
type emptyKeychain struct{}

func (emptyKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.Anonymous, nil
}
