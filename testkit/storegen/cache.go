package storegen

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Ensure returns the store spec describes, generated under cacheDir, and
// generates it only when it is not there yet: the store lives in
// cacheDir/store-<Key>/root and its manifest next to it. A store being
// generated lives under a temporary name and is renamed when complete, so
// an interrupted or concurrent run never leaves a half store behind a
// valid name.
func Ensure(cacheDir string, spec Spec) (*Manifest, error) {
	key, err := spec.Key()
	if err != nil {
		return nil, fmt.Errorf("generating store: %w", err)
	}
	dir := filepath.Join(cacheDir, "store-"+key)
	if m, err := ReadManifest(filepath.Join(dir, "manifest.json")); err == nil {
		return m, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(cacheDir, ".store-"+key+"-*")
	if err != nil {
		return nil, err
	}
	m, err := Generate(filepath.Join(tmp, "root"), spec)
	if err == nil {
		err = m.WriteFile(filepath.Join(tmp, "manifest.json"))
	}
	if err == nil {
		err = os.Rename(tmp, dir)
		if err != nil {
			// Another run finished the same store first: use it.
			if m2, err2 := ReadManifest(filepath.Join(dir, "manifest.json")); err2 == nil {
				RemoveAll(tmp)
				return m2, nil
			}
		}
	}
	if err != nil {
		RemoveAll(tmp)
		return nil, err
	}
	m.Root = filepath.Join(dir, "root")
	return m, nil
}

// RemoveAll removes a directory tree holding a generated store, whose
// directories are read-only (0555) as in Nix: it makes them writable
// first, which a non-root user needs.
func RemoveAll(dir string) error {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
