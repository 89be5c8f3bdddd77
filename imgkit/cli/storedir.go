package cli

import "path/filepath"

// DefaultStoreDir is Nix's store directory unless $NIX_STORE_DIR says
// otherwise.
const DefaultStoreDir = "/nix/store"

// StoreDir returns the logical store directory a tool works on: flag (its
// --store-dir) when given, else $NIX_STORE_DIR, else /nix/store, cleaned.
// One that is not absolute, or is /, is a usage error.
func (o *IO) StoreDir(flag string) (string, error) {
	dir := flag
	if dir == "" {
		dir = o.Env("NIX_STORE_DIR")
	}
	if dir == "" {
		dir = DefaultStoreDir
	}
	if !filepath.IsAbs(dir) || filepath.Clean(dir) == "/" {
		return "", Usagef("store directory %q: want an absolute path below /", dir)
	}
	return filepath.Clean(dir), nil
}
