package registry

import (
	"errors"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseReference(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: the reference's Name(), or "" for an error
		digest   bool
	}{
		{"127.0.0.1:5000/app@sha256:" + hex64, "127.0.0.1:5000/app@sha256:" + hex64, true},
		{"127.0.0.1:5000/app:1.0", "127.0.0.1:5000/app:1.0", false},
		{"127.0.0.1:5000/app", "127.0.0.1:5000/app:latest", false},
		{"busybox", "index.docker.io/library/busybox:latest", false},
		{"quay.io/coreos/etcd:v3.5", "quay.io/coreos/etcd:v3.5", false},
		{"app:tag@sha256:" + hex64, "index.docker.io/library/app@sha256:" + hex64, true},
		// Attacks and mistakes.
		{"UPPER/case", "", false},
		{"app@sha256:abc", "", false},
		{"app@sha512:" + hex64 + hex64, "", false},
		{"http://127.0.0.1:5000/app", "", false},
		{"", "", false},
		// The reference grammar, as docker, podman and the registry read
		// it: go-containerregistry checks only the characters, and these
		// went to the registry, which refused them once the work had begun.
		{"[::1]:5000/app:1", "[::1]:5000/app:1", false},
		{"localhost/a__b--c.d:_x", "localhost/a__b--c.d:_x", false},
		{"127.0.0.1:5000/a..b:1", "", false},
		{"127.0.0.1:5000/a___b", "", false},
		{"127.0.0.1:5000/-app", "", false},
		{"127.0.0.1:5000/app-", "", false},
		{"127.0.0.1:5000/app/", "", false},
		{"127.0.0.1:5000//app", "", false},
		{"127.0.0.1:5000/app:.x", "", false},
		{"127.0.0.1:5000/app:-x", "", false},
		{"127.0.0.1:5000/a..b@sha256:" + hex64, "", false},
		{strings.Repeat("a", 238), "", false},
	} {
		ref, err := ParseReference(tc.in, false)
		if tc.want == "" {
			if !errors.Is(err, errdefs.ErrInvalidInput) {
				t.Errorf("%q: error %v, want ErrInvalidInput", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if ref.Name() != tc.want {
			t.Errorf("%q: parsed as %q, want %q", tc.in, ref.Name(), tc.want)
		}
		if _, err := ParseDigestReference(tc.in, false); (err == nil) != tc.digest {
			t.Errorf("%q: ParseDigestReference error %v", tc.in, err)
		}
	}
}

func TestParseCreds(t *testing.T) {
	for _, tc := range []struct {
		name, in   string
		user, pass string // empty: an error
	}{
		{"Plain", "alice:secret", "alice", "secret"},
		{"ColonInPassword", "alice:se:cr:et", "alice", "se:cr:et"},
		{"NoColon", "alicesecret", "", ""},
		{"EmptyUser", ":secret", "", ""},
		{"EmptyPassword", "alice:", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseCreds(tc.in)
			if tc.user == "" {
				if !errors.Is(err, errdefs.ErrInvalidInput) {
					t.Fatalf("error %v, want ErrInvalidInput", err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("the error repeats the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := a.Authorization()
			if err != nil || cfg.Username != tc.user || cfg.Password != tc.pass {
				t.Fatalf("got %q:%q (%v)", cfg.Username, cfg.Password, err)
			}
		})
	}
}

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
