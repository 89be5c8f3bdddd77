package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"dockertools.dev/imgkit/cli"
)

// fileKeychain finds credentials where docker, podman and skopeo keep
// them, in this order, the first place that has some for a registry
// winning:
//
//  1. $DOCKER_AUTH_CONFIG, config.json's "auths" given in the environment
//     (the docker CLI reads it first; GitLab CI sets it);
//  2. $DOCKER_CONFIG/config.json, when DOCKER_CONFIG is set;
//  3. $REGISTRY_AUTH_FILE, the auth.json that skopeo and podman read
//     instead of their default;
//  4. ~/.docker/config.json, when DOCKER_CONFIG is not set;
//  5. podman's and skopeo's own: $XDG_RUNTIME_DIR/containers/auth.json
//     (where `podman login` writes), then
//     $XDG_CONFIG_HOME/containers/auth.json (~/.config/containers).
//
// A file the environment names comes before the files found by default:
// a CI job that sets REGISTRY_AUTH_FILE for skopeo (which then reads no
// other file) means its credentials, not stale ones a runner's
// ~/.docker/config.json holds for the same registry.
//
// go-containerregistry's DefaultKeychain, used before, read only the first
// of the files that exists: a ~/.docker/config.json that named other
// registries (or only a credsStore) hid $REGISTRY_AUTH_FILE and podman's
// auth.json, which skopeo, nixpkgs' puller, reads; and it ran credential
// helpers (docker-credential-NAME) without a time limit, so one that
// waited for a keyring to be unlocked kept a pull waiting forever, in
// silence. Helpers run here as helper.go says.
//
// In each file, as Docker does: the helper that "credHelpers" names for
// the registry, else "credsStore", else "auths", whose keys may be a host,
// a URL (https://index.docker.io/v1/ for Docker Hub) or, as podman writes
// them, host/repository and host/namespace (looked up before the host, the
// longest first; docker.io/… for Docker Hub).
type fileKeychain struct {
	helper helperRunner
}

func (k fileKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), target)
}

func (k fileKeychain) ResolveContext(ctx context.Context, target authn.Resource) (authn.Authenticator, error) {
	for _, src := range authSources() {
		f, err := src.load(ctx)
		if err != nil {
			return nil, err
		}
		if f == nil {
			continue
		}
		cfg, err := f.lookup(ctx, k.helper, target)
		if err != nil {
			return nil, err
		}
		if cfg != (authn.AuthConfig{}) {
			return authn.FromConfig(cfg), nil
		}
	}
	return authn.Anonymous, nil
}

// authSource is where an auth file is: a path, or an environment variable
// holding the file itself.
type authSource struct {
	path string // "" for env
	env  string
}

func authSources() []authSource {
	home, _ := os.UserHomeDir()
	dockerSet, dockerDefault := os.Getenv("DOCKER_CONFIG"), ""
	if dockerSet == "" && home != "" {
		dockerDefault = filepath.Join(home, ".docker")
	}
	config := os.Getenv("XDG_CONFIG_HOME")
	if config == "" && home != "" {
		config = filepath.Join(home, ".config")
	}
	srcs := []authSource{{env: "DOCKER_AUTH_CONFIG"}}
	for _, p := range []string{
		dirFile(dockerSet, "config.json"),
		os.Getenv("REGISTRY_AUTH_FILE"),
		dirFile(dockerDefault, "config.json"),
		dirFile(os.Getenv("XDG_RUNTIME_DIR"), "containers/auth.json"),
		dirFile(config, "containers/auth.json"),
	} {
		if p != "" {
			srcs = append(srcs, authSource{path: p})
		}
	}
	return srcs
}

func dirFile(dir, file string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, file)
}

// authFile is what is read of a config.json or an auth.json.
type authFile struct {
	name        string               // the path, or $VAR
	Auths       map[string]authEntry `json:"auths"`
	CredsStore  string               `json:"credsStore"`
	CredHelpers map[string]string    `json:"credHelpers"`
}

type authEntry struct {
	Auth          string `json:"auth"` // base64 of USER:PASS
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// load reads the file; nil when there is none. Errors name the file, never
// what it holds.
func (s authSource) load(ctx context.Context) (*authFile, error) {
	f := &authFile{name: s.path}
	var data []byte
	if s.path == "" {
		f.name = "$" + s.env
		data = []byte(os.Getenv(s.env))
		if len(data) == 0 {
			return nil, nil
		}
	} else {
		var err error
		if data, err = readAuthFile(ctx, s.path); err != nil {
			// Absent, or a directory where a file was meant (or the
			// other way round): nothing, as go-containerregistry had it.
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.ENOTDIR) {
				return nil, nil
			}
			return nil, err
		}
	}
	if len(data) > maxAuthFile {
		return nil, fmt.Errorf("%s: more than %d bytes: not a config.json or auth.json", f.name, maxAuthFile)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil // an empty config.json, as docker reads it
	}
	if err := json.Unmarshal(data, f); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s: not JSON (at byte %d)", f.name, se.Offset)
		}
		return nil, fmt.Errorf("%s: not a config.json or auth.json", f.name)
	}
	return f, nil
}

// maxAuthFile bounds what is read of a credentials file: a config.json
// of many registries is a few KiB. One that does not end (a symlink to
// /dev/zero, a log named by mistake) was read whole into memory.
const maxAuthFile = 4 << 20

// readAuthFile reads path, up to one byte past maxAuthFile. It is opened
// as an input the user named (cli.OpenInput): a FIFO there (a
// REGISTRY_AUTH_FILE given as a process substitution, or planted at
// ~/.docker/config.json) whose writer never comes or never writes waited
// for ever in open(2) or read(2), deaf to SIGTERM; ctx's cancellation
// ends it now.
func readAuthFile(ctx context.Context, path string) ([]byte, error) {
	f, err := cli.OpenInput(ctx, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxAuthFile+1))
}

// dockerHubKey is the key Docker files Docker Hub's credentials under.
const dockerHubKey = "https://index.docker.io/v1/"

// lookup returns the credentials f holds for target, zero when none.
func (f *authFile) lookup(ctx context.Context, run helperRunner, target authn.Resource) (authn.AuthConfig, error) {
	repo, regKeys := target.String(), []string{target.RegistryStr()}
	hub := target.RegistryStr() == name.DefaultRegistry
	if hub {
		// Docker files Docker Hub under its v1 URL; podman under
		// docker.io, and its repositories and namespaces under
		// docker.io/NAMESPACE/…, not index.docker.io.
		repo = "docker.io" + strings.TrimPrefix(repo, name.DefaultRegistry)
		regKeys = []string{dockerHubKey, "docker.io"}
	}
	keys := append(namespaces(repo), regKeys...)
	for i, key := range keys {
		// Helpers are asked about the repository (but Docker Hub's,
		// which go-containerregistry never asked them under podman's
		// name) and the registry, as go-containerregistry asked them;
		// the namespaces between are podman's, in "auths" only. A
		// registry credHelpers names has that helper alone, as Docker
		// has it: credsStore is not asked about its repositories (a
		// config.json with "credsStore": "desktop" copied where Docker
		// Desktop's helper is not failed every pull from it).
		helperKey := slices.Contains(regKeys, key) ||
			(i == 0 && !hub && (f.CredHelpers[key] != "" || f.CredHelpers[target.RegistryStr()] == ""))
		if helper := f.helperFor(key); helper != "" && helperKey {
			cfg, err := run.get(ctx, helper, key)
			if err != nil {
				return cfg, fmt.Errorf("%s: %w", f.name, err)
			}
			if cfg != (authn.AuthConfig{}) {
				return cfg, nil
			}
		}
		cfg, err := f.entry(key)
		if err != nil || cfg != (authn.AuthConfig{}) {
			return cfg, err
		}
	}
	return authn.AuthConfig{}, nil
}

// namespaces are repo (host/a/b) and its parents but the host (host/a),
// longest first: podman looks a repository's credentials up so.
func namespaces(repo string) []string {
	var keys []string
	for strings.Count(repo, "/") > 0 {
		keys = append(keys, repo)
		repo = repo[:strings.LastIndexByte(repo, '/')]
	}
	return keys
}

// helperFor is the helper for key, as Docker chooses it: the one
// credHelpers names for key itself (a host: for host/repository, only
// credsStore's is asked), else credsStore's.
func (f *authFile) helperFor(key string) string {
	if h, ok := f.CredHelpers[key]; ok {
		return h
	}
	return f.CredsStore
}

// entry is the "auths" entry for key: its own, else the first (in key
// order) named by a URL whose host is key (as older docker wrote them).
func (f *authFile) entry(key string) (authn.AuthConfig, error) {
	e, ok := f.Auths[key]
	if !ok {
		urls := make([]string, 0, len(f.Auths))
		for k := range f.Auths {
			if urlHost(k) == key {
				urls = append(urls, k)
			}
		}
		if len(urls) > 0 {
			e, ok = f.Auths[slices.Min(urls)], true
		}
	}
	if !ok {
		return authn.AuthConfig{}, nil
	}
	cfg := authn.AuthConfig{Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken}
	if e.Auth != "" {
		dec, err := base64.StdEncoding.DecodeString(e.Auth)
		user, pass, colon := strings.Cut(string(dec), ":")
		if err != nil || !colon || user == "" {
			return authn.AuthConfig{}, fmt.Errorf("%s: the \"auth\" of %s is not base64 of USER:PASS", f.name, Shown(key))
		}
		cfg.Username, cfg.Password = user, strings.Trim(pass, "\x00")
	}
	return cfg, nil
}

// urlHost is the host of an auths key that is a URL, else "".
func urlHost(key string) string {
	if !strings.Contains(key, "://") {
		return ""
	}
	u, err := url.Parse(key)
	if err != nil {
		return ""
	}
	return u.Host
}
