package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"dockertools.dev/testkit"
)

// needComponents skips a benchmark when a real component is missing.
func needComponents(names ...string) error {
	for _, n := range names {
		if why := testkit.Missing(n); why != "" {
			return skipf("%s", why)
		}
	}
	return nil
}

// startRegistry starts a registry (Debian's docker-registry, as the tests
// do) on a loopback port, serving storage. It is stopped by stop or at
// exit, whichever comes first.
func (b *bench) startRegistry(storage string) (reg *testkit.Registry, stop func(), err error) {
	dir, err := os.MkdirTemp(b.scratch, "registry-")
	if err != nil {
		return nil, nil, err
	}
	reg, err = testkit.StartRegistry(dir, testkit.RegistryOptions{Dir: storage})
	if err != nil {
		return nil, nil, err
	}
	b.cleanup = append(b.cleanup, reg.Stop)
	return reg, reg.Stop, nil
}

// skopeoPush copies a docker-archive into the registry at dest
// (HOST:PORT/REPO:TAG) and returns the manifest digest.
func (b *bench) skopeoPush(ctx context.Context, archive, dest string) (string, sample, error) {
	digestFile := filepath.Join(b.scratch, "skopeo.digest")
	s, err := b.run(ctx, []stage{command("skopeo", "skopeo", "copy", "--quiet", "--dest-tls-verify=false",
		"--digestfile", digestFile, "docker-archive:"+archive, "docker://"+dest)}, nil, nil)
	if err != nil {
		return "", s, err
	}
	digest, err := os.ReadFile(digestFile)
	return strings.TrimSpace(string(digest)), s, err
}

// servedImage starts a registry holding img as bench/image:latest and
// returns it with the image's manifest digest. The registry's storage is
// cached in the work directory: skopeo pushes the image only once.
func (b *bench) servedImage(ctx context.Context, img *builtImage) (*testkit.Registry, string, error) {
	dir := strings.TrimSuffix(img.archive, ".tar") + ".registry"
	storage, digestFile := filepath.Join(dir, "storage"), filepath.Join(dir, "digest")
	digest, err := os.ReadFile(digestFile)
	if err != nil {
		// No digest means no complete push: start from an empty storage.
		removeTree(dir)
		if err := os.MkdirAll(storage, 0o755); err != nil {
			return nil, "", err
		}
	}
	reg, _, err := b.startRegistry(storage)
	if err != nil {
		return nil, "", err
	}
	if len(digest) > 0 {
		return reg, strings.TrimSpace(string(digest)), nil
	}
	b.logf("pushing the image into the registry with skopeo (once; cached in %s)", dir)
	d, _, err := b.skopeoPush(ctx, img.archive, reg.Addr+"/bench/image:latest")
	if err != nil {
		return nil, "", fmt.Errorf("pushing the image with skopeo: %w", err)
	}
	return reg, d, os.WriteFile(digestFile, []byte(d+"\n"), 0o644)
}
