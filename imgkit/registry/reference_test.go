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
