package registry

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// helperPath puts docker-credential-NAME scripts (their bodies) on PATH.
func helperPath(t *testing.T, scripts map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
}

// TestCredentialHelperMisbehaves: a helper that hangs, floods, fails,
// prints garbage or is missing fails the lookup at once with one line
// naming it, its output bounded and never quoted when it may be a secret;
// one that has nothing, or an identity token, is read as Docker reads it.
// go-containerregistry waited forever for a hanging helper and kept all a
// flooding one printed.
func TestCredentialHelperMisbehaves(t *testing.T) {
	helperPath(t, map[string]string{
		"hang":     "exec sleep 30",
		"flood":    "cat >/dev/null; yes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"fails":    "cat >/dev/null; printf 'keyring locked\\nsecond line\\n'; exit 3",
		"stderr":   "cat >/dev/null; echo 'no session bus' >&2; exit 1",
		"silent":   "exit 4",
		"failjson": `cat >/dev/null; printf '{"Username":"a","Secret":"s3cr3t-json"}'; exit 1`,
		"lingers":  `cat >/dev/null; printf '{"Username":"a","Secret":"b"}'; sleep 3 & exit 0`,
		"garbage":  "cat >/dev/null; echo 'user=alice password=s3cr3t-garbage'",
		"none":     "cat >/dev/null; echo 'credentials not found in native keychain'; exit 1",
		"token":    `read -r s; printf '{"ServerURL":"%s","Username":"<token>","Secret":"id-t0ken"}' "$s"`,
		"basic":    `read -r s; [ "$s" = reg.example ] || exit 9; printf '{"Username":"alice","Secret":"pa55"}'`,
	})
	run := helperRunner{timeout: 2 * time.Second} // past the second a lingering child is waited for
	for _, tc := range []struct {
		helper, want string
		cfg          authn.AuthConfig
	}{
		{helper: "hang", want: "credential helper docker-credential-hang: no answer in 2s"},
		{helper: "flood", want: "credential helper docker-credential-flood: more than 65536 bytes of output"},
		{helper: "fails", want: "credential helper docker-credential-fails: exit status 3: keyring locked"},
		{helper: "stderr", want: "credential helper docker-credential-stderr: exit status 1: no session bus"},
		{helper: "silent", want: "credential helper docker-credential-silent: exit status 4"},
		{helper: "failjson", want: "credential helper docker-credential-failjson: exit status 1"},
		{helper: "lingers", cfg: authn.AuthConfig{Username: "a", Password: "b"}},
		{helper: "garbage", want: "credential helper docker-credential-garbage: its answer is not JSON credentials"},
		{helper: "missing", want: "credential helper docker-credential-missing: not found on PATH"},
		{helper: "none"},
		{helper: "token", cfg: authn.AuthConfig{IdentityToken: "id-t0ken"}},
		{helper: "basic", cfg: authn.AuthConfig{Username: "alice", Password: "pa55"}},
	} {
		t.Run(tc.helper, func(t *testing.T) {
			start := time.Now()
			cfg, err := run.get(context.Background(), tc.helper, "reg.example")
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %s", took)
			}
			if tc.want == "" {
				if err != nil || cfg != tc.cfg {
					t.Fatalf("got %+v, %v; want %+v", cfg, err, tc.cfg)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
