package registry

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// credEnv is a machine without credentials: HOME, DOCKER_CONFIG,
// REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, XDG_CONFIG_HOME and
// DOCKER_AUTH_CONFIG point at nothing. It returns HOME.
func credEnv(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, v := range []string{"DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "DOCKER_AUTH_CONFIG"} {
		t.Setenv(v, "")
	}
	return home
}

// writeAuths writes a config.json / auth.json at path with the given
// "auths" (key → USER:PASS) and extra top-level JSON members.
func writeAuths(t *testing.T, path string, auths map[string]string, extra string) {
	t.Helper()
	var entries []string
	for k, up := range auths {
		entries = append(entries, fmt.Sprintf("%q:{\"auth\":%q}", k, base64.StdEncoding.EncodeToString([]byte(up))))
	}
	body := "{\"auths\":{" + strings.Join(entries, ",") + "}" + extra + "}"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// resolveUser is the user the Client finds credentials for in repo
// ("" for anonymous), failing t on an error or after 10 seconds.
func resolveUser(t *testing.T, c *Client, repo string) string {
	t.Helper()
	r, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		a   authn.Authenticator
		err error
	}
	done := make(chan result, 1)
	go func() {
		a, err := c.authenticator(context.Background(), r)
		done <- result{a, err}
	}()
	select {
	case <-time.After(10 * time.Second):
		t.Fatal("no credentials after 10s")
	case res := <-done:
		if res.err != nil {
			t.Fatal(res.err)
		}
		if res.a == authn.Anonymous {
			return ""
		}
		cfg, err := res.a.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Username + ":" + cfg.Password + cfg.IdentityToken
	}
	return ""
}

// TestCredentialsFromEveryAuthFile: a registry's credentials are found in
// the first of Docker's config.json, $REGISTRY_AUTH_FILE, podman's
// $XDG_RUNTIME_DIR/containers/auth.json and ~/.config/containers/auth.json
// that has some for it, as skopeo finds them. go-containerregistry read
// only the first of these files that existed: a ~/.docker/config.json
// naming other registries made the pull anonymous.
func TestCredentialsFromEveryAuthFile(t *testing.T) {
	home := credEnv(t)
	writeAuths(t, filepath.Join(home, ".docker/config.json"), map[string]string{"docker.reg": "dockeruser:d"}, "")
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, ".docker"))
	writeAuths(t, filepath.Join(home, ".config/docker-hub/config.json"), map[string]string{"https://index.docker.io/v1/": "hubuser:h"}, "")
	writeAuths(t, filepath.Join(home, "authfile.json"), map[string]string{"authfile.reg": "fileuser:f", "docker.reg": "shadowed:x"}, "")
	t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(home, "authfile.json"))
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(home, "run"))
	writeAuths(t, filepath.Join(home, "run/containers/auth.json"), map[string]string{"podman.reg/team": "podmanuser:p", "podman.reg/team/sub/app": "appuser:a"}, "")
	writeAuths(t, filepath.Join(home, ".config/containers/auth.json"), map[string]string{"https://legacy.reg/v1/": "legacyuser:l"}, "")
	c := New(Options{})
	for repo, want := range map[string]string{
		"docker.reg/app":          "dockeruser:d",
		"authfile.reg/app":        "fileuser:f",
		"podman.reg/team":         "podmanuser:p", // podman's host/repository keys
		"podman.reg/team/sub/img": "podmanuser:p", // and namespaces
		"podman.reg/team/sub/app": "appuser:a",
		"podman.reg/other":        "",
		"legacy.reg/app":          "legacyuser:l", // older docker's URL keys
		"nowhere.reg/app":         "",
		"docker.io/library/app":   "",
	} {
		if got := resolveUser(t, c, repo); got != want {
			t.Errorf("%s: credentials of %q, want %q", repo, got, want)
		}
	}
	// Docker Hub's credentials are filed under its v1 URL.
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, ".config/docker-hub"))
	if got := resolveUser(t, c, "alpine"); got != "hubuser:h" {
		t.Errorf("Docker Hub: credentials of %q, want hubuser:h", got)
	}
	// A REGISTRY_AUTH_FILE the environment names comes before the
	// ~/.docker/config.json found by default (skopeo reads only it), and
	// after a config.json DOCKER_CONFIG names.
	writeAuths(t, filepath.Join(home, ".docker/config.json"), map[string]string{"docker.reg": "dockeruser:d", "stale.reg": "staleuser:s"}, "")
	writeAuths(t, filepath.Join(home, "authfile.json"), map[string]string{"stale.reg": "fileuser:f"}, "")
	t.Setenv("DOCKER_CONFIG", "")
	for repo, want := range map[string]string{"stale.reg/app": "fileuser:f", "docker.reg/app": "dockeruser:d"} {
		if got := resolveUser(t, c, repo); got != want {
			t.Errorf("REGISTRY_AUTH_FILE and the default config.json: %s: credentials of %q, want %q", repo, got, want)
		}
	}
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, ".docker"))
	if got := resolveUser(t, c, "stale.reg/app"); got != "staleuser:s" {
		t.Errorf("REGISTRY_AUTH_FILE and $DOCKER_CONFIG's config.json: credentials of %q, want staleuser:s", got)
	}
	// Docker's own environment variable comes first.
	t.Setenv("DOCKER_AUTH_CONFIG", fmt.Sprintf(`{"auths":{"authfile.reg":{"auth":%q}}}`, base64.StdEncoding.EncodeToString([]byte("envuser:e"))))
	if got := resolveUser(t, c, "authfile.reg/app"); got != "envuser:e" {
		t.Errorf("with DOCKER_AUTH_CONFIG: credentials of %q, want envuser:e", got)
	}
}

// TestCredentialHelperHangs: a credential helper that never answers (one
// waiting for a keyring to be unlocked) fails the pull after the idle
// timeout, naming it; go-containerregistry waited forever.
func TestCredentialHelperHangs(t *testing.T) {
	home := credEnv(t)
	helperPath(t, map[string]string{"hang": "exec sleep 30"})
	writeAuths(t, filepath.Join(home, ".docker/config.json"), nil, `,"credHelpers":{"hung.reg":"hang"}`)
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, ".docker"))
	c := New(Options{IdleTimeout: 300 * time.Millisecond})
	r, _ := name.NewRepository("hung.reg/app")
	done := make(chan error, 1)
	go func() {
		_, err := c.authenticator(context.Background(), r)
		done <- err
	}()
	select {
	case <-time.After(10 * time.Second):
		t.Fatal("still waiting for the helper after 10s")
	case err := <-done:
		want := "reading credentials for hung.reg: " + filepath.Join(home, ".docker/config.json") + ": credential helper docker-credential-hang: no answer in 300ms"
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
	}
}

// TestAuthFilesOddButHarmless: an empty config.json (as `touch` leaves
// it), a DOCKER_CONFIG naming the file instead of its directory and a
// REGISTRY_AUTH_FILE that is a directory hold no credentials, as docker and
// go-containerregistry read them; a config.json that is not JSON is an
// error naming it, without its content.
func TestAuthFilesOddButHarmless(t *testing.T) {
	home := credEnv(t)
	if err := os.MkdirAll(filepath.Join(home, ".docker"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(home, ".docker/config.json")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REGISTRY_AUTH_FILE", home)
	writeAuths(t, filepath.Join(home, ".config/containers/auth.json"), map[string]string{"reg.example": "alice:a"}, "")
	c := New(Options{})
	if got := resolveUser(t, c, "reg.example/app"); got != "alice:a" {
		t.Errorf("with an empty config.json: %q, want alice:a", got)
	}
	t.Setenv("DOCKER_CONFIG", cfg)
	if got := resolveUser(t, c, "reg.example/app"); got != "alice:a" {
		t.Errorf("with DOCKER_CONFIG a file: %q, want alice:a", got)
	}
	t.Setenv("DOCKER_CONFIG", "")
	if err := os.WriteFile(cfg, []byte(`{"auths": {"reg.example": {"auth": "s3cret-not-json`), 0o600); err != nil {
		t.Fatal(err)
	}
	r, _ := name.NewRepository("reg.example/app")
	_, err := c.authenticator(context.Background(), r)
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), cfg+": not JSON") {
		t.Fatalf("error %v, want one naming %s and not quoting it", err, cfg)
	}
}

// TestAuthFileWithoutEnd: a credentials file that does not end (a
// REGISTRY_AUTH_FILE or config.json that is a symlink to /dev/zero, or a
// log file named by mistake) was read whole into memory before it was
// parsed: the pull grew until the kernel killed it. What is read is
// bounded; past it the file is named, as one that is not a credentials
// file. /dev/null still reads as an empty file, holding none.
func TestAuthFileWithoutEnd(t *testing.T) {
	home := credEnv(t)
	c := New(Options{})
	r, _ := name.NewRepository("reg.example/app")
	t.Setenv("REGISTRY_AUTH_FILE", "/dev/null")
	if got := resolveUser(t, c, "reg.example/app"); got != "" {
		t.Errorf("REGISTRY_AUTH_FILE=/dev/null: %q, want none", got)
	}
	link := filepath.Join(home, "zero.json")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REGISTRY_AUTH_FILE", link)
	done := make(chan error, 1)
	go func() {
		_, err := c.authenticator(context.Background(), r)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || err.Error() != "reading credentials for reg.example: "+link+": more than 4194304 bytes: not a config.json or auth.json" {
			t.Fatalf("error %v, want one naming %s, too long", err, link)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("still reading /dev/zero after 20s")
	}
}

// TestCredentialsDockerHubNamespaces: podman files Docker Hub's
// credentials under docker.io, and those of a namespace or repository
// (`podman login docker.io/myorg`) under docker.io/myorg, which skopeo and
// podman look up first; they were never looked up (Docker Hub's keys were
// only its v1 URL and docker.io), so the pull of a private image of the
// namespace went out anonymous, or with the account's other credentials.
func TestCredentialsDockerHubNamespaces(t *testing.T) {
	home := credEnv(t)
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(home, "run"))
	writeAuths(t, filepath.Join(home, "run/containers/auth.json"), map[string]string{
		"docker.io":             "hubuser:h",
		"docker.io/myorg":       "orguser:o",
		"docker.io/myorg/agent": "agentuser:a",
	}, "")
	c := New(Options{})
	for repo, want := range map[string]string{
		"myorg/app":                    "orguser:o",
		"docker.io/myorg/app":          "orguser:o",
		"index.docker.io/myorg/app":    "orguser:o",
		"myorg/agent":                  "agentuser:a",
		"other/app":                    "hubuser:h",
		"alpine":                       "hubuser:h",
		"registry-1.docker.io/myorg/x": "", // another registry's name
	} {
		if got := resolveUser(t, c, repo); got != want {
			t.Errorf("%s: credentials of %q, want %q", repo, got, want)
		}
	}
}

// TestCredHelpersRegistryOnlyItsHelper: with "credHelpers" naming a
// helper for a registry, only that helper is asked about it, as Docker
// asks: "credsStore" was asked first about the repository, so a
// config.json with Docker Desktop's "credsStore": "desktop" copied where
// docker-credential-desktop is not (a CI runner) failed every pull from
// the registry the named helper serves. A registry credHelpers does not
// name still has credsStore's.
func TestCredHelpersRegistryOnlyItsHelper(t *testing.T) {
	home := credEnv(t)
	helperPath(t, map[string]string{
		"gh": `read -r s; [ "$s" = ghcr.example ] || exit 9; printf '{"Username":"ghuser","Secret":"g"}'`,
	})
	writeAuths(t, filepath.Join(home, ".docker/config.json"), nil, `,"credsStore":"desktop","credHelpers":{"ghcr.example":"gh"}`)
	c := New(Options{})
	if got := resolveUser(t, c, "ghcr.example/org/app"); got != "ghuser:g" {
		t.Errorf("ghcr.example: credentials of %q, want ghuser:g", got)
	}
	// credsStore's helper is still asked about the others (and here is
	// missing, which is an error, as Docker has it).
	r, _ := name.NewRepository("other.example/app")
	if _, err := c.authenticator(context.Background(), r); err == nil || !strings.Contains(err.Error(), "docker-credential-desktop: not found on PATH") {
		t.Errorf("other.example: error %v, want docker-credential-desktop not found", err)
	}
}

// TestAuthFileFIFOStalls: a credentials file that is a FIFO whose writer
// never comes (planted at ~/.docker/config.json, or a REGISTRY_AUTH_FILE
// whose writer is stuck) kept the pull waiting in open(2), where the
// signal's cancellation did not reach it: it ends with the context's
// error once the context is cancelled. A FIFO whose writer writes the
// file and closes is read as before.
func TestAuthFileFIFOStalls(t *testing.T) {
	home := credEnv(t)
	fifo := filepath.Join(home, "auth.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REGISTRY_AUTH_FILE", fifo)
	c := New(Options{})
	r, _ := name.NewRepository("reg.example/app")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		_, err := c.authenticator(ctx, r)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want the context's", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still opening the FIFO 10 s after the cancellation")
	}

	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			fmt.Fprintf(w, `{"auths":{"reg.example":{"auth":%q}}}`, base64.StdEncoding.EncodeToString([]byte("alice:pw")))
			w.Close()
		}
	}()
	if got := resolveUser(t, c, "reg.example/app"); got != "alice:pw" {
		t.Errorf("a FIFO written whole: user %q, want alice:pw", got)
	}
}
