package cli

import "path/filepath"

// DefaultStoreDir is Nix's store directory unless $NIX_STORE_DIR says
// otherwise.
const DefaultStoreDir = "/nix/store"

// CheckStoreDir checks a store directory a command line gives (a tool's
// --store-dir, in its Validate): one that is not absolute, or is /, is a
// usage error; none ("", the flag not given) is fine, StoreDir picks one.
func CheckStoreDir(dir string) error {
	if dir != "" && (!filepath.IsAbs(dir) || filepath.Clean(dir) == "/") {
		return Usagef("store directory %q: want an absolute path below /", dir)
	}
	return nil
}

// StoreDir returns the logical store directory a tool works on: flag (its
// --store-dir) when given, else $NIX_STORE_DIR, else /nix/store, cleaned
// and checked as CheckStoreDir checks it.
func (o *IO) StoreDir(flag string) (string, error) {
	dir := flag
	if dir == "" {
		dir = o.Env("NIX_STORE_DIR")
	}
	if dir == "" {
		dir = DefaultStoreDir
	}
	if err := CheckStoreDir(dir); err != nil {
		return "", err
	}
	return filepath.Clean(dir), nil
}

// RootDir returns a tool's --root (where the logical path P is read, at
// DIR/P, as Nix's chroot store local?root=DIR) made absolute.
func RootDir(flag string) (string, error) {
	root, err := filepath.Abs(flag)
	if err != nil {
		return "", Usagef("--root %q: %v", flag, err)
	}
	return root, nil
}

// Store places a tool's store from its --store-dir and --root: the
// logical store directory (as StoreDir gives it) and the root it is read
// under (as RootDir gives it).
func (o *IO) Store(dirFlag, rootFlag string) (dir, root string, err error) {
	if dir, err = o.StoreDir(dirFlag); err != nil {
		return "", "", err
	}
	if root, err = RootDir(rootFlag); err != nil {
		return "", "", err
	}
	return dir, root, nil
}
