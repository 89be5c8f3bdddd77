package registry

import (
	"errors"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// TestReferenceWithCredentialsNotShown: a reference holding a URL's user
// and password (alice:TOKEN@ghcr.io/app, as git takes them) or a scheme
// is refused without being repeated: the error line went to the
// terminal or a CI job's log, the token with it (pull-blob REF, push-blob
// --dest). A digest after the @ is shown as before.
func TestReferenceWithCredentialsNotShown(t *testing.T) {
	for _, s := range []string{
		"alice:S3cret@reg.example/app:1",
		"alice:S3cret@reg.example:5000/app",
		"alice:S3cret@reg.example",
		"alice:S3cr#t@reg.example/app",
		"https://alice:S3cret@reg.example/app:1",
		"https://reg.example/app?token=S3cret",
	} {
		_, err := ParseReference(s, false)
		if err == nil || !errors.Is(err, errdefs.ErrInvalidInput) || strings.Contains(err.Error(), "S3c") {
			t.Errorf("%s: error %v, want a usage error without the secret", s, err)
		}
		if _, err := ParseDigestReference(s, false); err == nil || strings.Contains(err.Error(), "S3c") {
			t.Errorf("%s: digest: error %v, want one without the secret", s, err)
		}
	}
	// A digest is shown, as before.
	_, err := ParseReference("app@sha512:"+strings.Repeat("a", 128), false)
	if err == nil || !strings.Contains(err.Error(), `reference "app@sha512:aaa`) {
		t.Errorf("sha512: error %v, want one showing the reference", err)
	}
}
