package registry

import (
	"errors"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
)

// checkError fails t unless err is want (nil: no error), and reports
// whether the case goes on to check a result.
func checkError(t *testing.T, err, want error) bool {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatal(err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error %v, want %v", err, want)
	}
	return want == nil
}

// emptyKeychain keeps the tests away from the host's Docker config.
type emptyKeychain struct{}

func (emptyKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.Anonymous, nil
}
