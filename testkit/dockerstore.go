package testkit

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// The containerd image store: a Docker engine that keeps images in
// containerd ({"features":{"containerd-snapshotter":true}}), the default
// of new Docker Engine installs since 29 and of Docker Desktop. It loads
// OCI layouts and indexes, keeps multi-platform images whole, names an
// image by its manifest's (or index's) digest rather than its config's,
// and docker save writes an OCI layout with index.json and manifest.json,
// layers as they are stored (compressed). Debian 12's docker.io (20.10)
// ignores the feature, so the tests run a second engine for it: Debian
// 13's docker.io (26.1) and containerd (1.7), which
// scripts/install-test-deps unpacks, not installs, into DockerStoreRoot.

var (
	storeOnce sync.Once
	storeInst *Docker
	storeSkip string
	storeErr  error
)

// DockerStoreRoot is where the engine with the containerd image store is
// unpacked (usr/sbin/dockerd, usr/bin/containerd and its runc shim):
// $DOCKERTOOLS_DOCKER_STORE, else /opt/dockertools/docker-cs.
func DockerStoreRoot() string {
	if d := os.Getenv("DOCKERTOOLS_DOCKER_STORE"); d != "" {
		return d
	}
	return "/opt/dockertools/docker-cs"
}

// dockerStoreFiles are the programs of DockerStoreRoot the engine needs.
var dockerStoreFiles = []string{"usr/sbin/dockerd", "usr/bin/containerd", "usr/bin/containerd-shim-runc-v2"}

// missingDockerStore is Missing("docker-store").
func missingDockerStore() string {
	root := DockerStoreRoot()
	var absent []string
	for _, f := range dockerStoreFiles {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			absent = append(absent, filepath.Join(root, f))
		}
	}
	for _, b := range []string{"docker", "runc"} {
		if _, err := exec.LookPath(b); err != nil {
			absent = append(absent, b)
		}
	}
	if len(absent) > 0 {
		return fmt.Sprintf("docker-store (Docker with the containerd image store) is not installed (no %s; scripts/install-test-deps installs it)", strings.Join(absent, ", "))
	}
	return ""
}

// StartDockerStore starts (once per test binary) a private Docker engine
// with the containerd image store, as StartDocker starts the classic one
// and with its results. Every setting it relies on is given, nothing read
// from this machine's: the feature in a daemon.json of its own
// (--config-file), containerd's native snapshotter (as vfs, it works on
// any file system), and a containerd of its own, the one beside it, which
// dockerd starts with its state under the engine's exec root (it would
// use a containerd serving /run/containerd/containerd.sock instead: then
// it fails, saying so). It fails too when the engine does not report the
// containerd store (io.containerd.snapshotter.v1 in docker info).
func StartDockerStore() (*Docker, string, error) {
	storeOnce.Do(func() { storeInst, storeSkip, storeErr = startDockerStore() })
	return storeInst, storeSkip, storeErr
}

func startDockerStore() (*Docker, string, error) {
	if why := missingDockerStore(); why != "" {
		return nil, "", fmt.Errorf("%s", why)
	}
	if _, err := os.Lstat("/run/containerd/containerd.sock"); err == nil {
		return nil, "", fmt.Errorf("a containerd serves /run/containerd/containerd.sock: dockerd would use it, not the containerd 1.7 beside it")
	}
	root := DockerStoreRoot()
	dir, err := os.MkdirTemp("", "dks")
	if err != nil {
		return nil, "", err
	}
	cfg := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(cfg, []byte(`{"features":{"containerd-snapshotter":true}}`+"\n"), 0o644); err != nil {
		return nil, "", err
	}
	cmd := exec.Command(filepath.Join(root, "usr/sbin/dockerd"), "--config-file", cfg, "--storage-driver=native")
	// dockerd starts the containerd it finds on PATH, which starts the
	// shim it finds there.
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(root, "usr/bin")+":"+os.Getenv("PATH"))
	d, skip, err := startEngine(dir, cmd)
	if err != nil {
		os.RemoveAll(dir)
		return nil, skip, err
	}
	status, err := driverStatus(filepath.Join(dir, "sock"))
	if err != nil || !slices.Contains(status, "io.containerd.snapshotter.v1") {
		return nil, "", fmt.Errorf("the engine of %s does not use the containerd image store (docker info's driver status %q, %v)", root, status, err)
	}
	return d, "", nil
}

// driverStatus is the engine's DriverStatus (docker info), flattened.
func driverStatus(sock string) ([]string, error) {
	resp, err := engineClient(sock).Get("http://docker/info")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var info struct{ DriverStatus [][]string }
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return nil, err
	}
	return slices.Concat(info.DriverStatus...), nil
}
