package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
)

// Where Nix keeps its state, relative to the root: its default
// NIX_STATE_DIR, /nix/var/nix.
const (
	dbDir      = "nix/var/nix/db"
	gcRootsDir = "nix/var/nix/gcroots/docker"
)

// openTree opens the image root, a directory, as -o names it: the tree
// writeState writes under. The caller closes it.
func openTree(root string) (*tree, error) {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("-o %q: %w", root, err)
	}
	return &tree{root: root, fd: fd}, nil
}

// writeState writes the database, the schema file and the garbage
// collector roots under t, the image root. Nothing is written through a
// symlink: every directory is made or opened relative to its parent, not
// following one, and every file and link is created new (O_EXCL,
// symlinkat), so an existing database is an error, not overwritten. On
// error, what was made is removed.
func writeState(ctx context.Context, o *cli.IO, t *tree, rows []row, gcRoots []string, regTime int64) (err error) {
	data, err := buildDB(ctx, rows, regTime)
	if err != nil {
		return fmt.Errorf("writing the database: %w", err)
	}
	defer func() {
		if err != nil {
			t.undo()
		}
	}()
	db, err := t.mkdirs(dbDir)
	if err != nil {
		return err
	}
	if err := t.create(db, dbDir, "db.sqlite", data); err != nil {
		return err
	}
	if err := t.create(db, dbDir, "schema", []byte(schemaVersion)); err != nil {
		return err
	}
	if len(gcRoots) > 0 {
		gc, err := t.mkdirs(gcRootsDir)
		if err != nil {
			return err
		}
		for _, p := range gcRoots {
			if err := t.symlink(gc, gcRootsDir, path.Base(p), p); err != nil {
				return err
			}
		}
	}
	o.Debugf("wrote %s/%s/db.sqlite (%d bytes) and %d garbage collector roots", t.root, dbDir, len(data), len(gcRoots))
	return nil
}

// tree makes entries below an open root and remembers them, to remove
// them again on failure.
type tree struct {
	root string
	fd   int
	fds  []int   // directories opened below the root
	made []entry // what was made, in order
}

type entry struct {
	dirfd int
	name  string
	dir   bool
}

// mkdirs makes (0755) or opens each directory of rel in turn and returns
// the last one's descriptor.
func (t *tree) mkdirs(rel string) (int, error) {
	cur := t.fd
	done := ""
	for _, name := range strings.Split(rel, "/") {
		done = path.Join(done, name)
		made := false
		switch err := unix.Mkdirat(cur, name, 0o755); {
		case err == nil:
			made = true
			t.made = append(t.made, entry{dirfd: cur, name: name, dir: true})
		case err != unix.EEXIST:
			return -1, t.err(done, err)
		}
		fd, err := unix.Openat(cur, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			if err == unix.ELOOP || err == unix.ENOTDIR {
				return -1, fmt.Errorf("%s: exists and is not a directory (a symlink is not followed): %w", t.name(done), errdefs.ErrInvalidInput)
			}
			return -1, t.err(done, err)
		}
		t.fds = append(t.fds, fd)
		if made {
			// mkdir's mode went through the umask.
			if err := unix.Fchmod(fd, 0o755); err != nil {
				return -1, t.err(done, err)
			}
		}
		cur = fd
	}
	return cur, nil
}

// create writes a new file (0644) of the directory dirfd, rel below the
// root.
func (t *tree) create(dirfd int, rel, name string, data []byte) error {
	fd, err := unix.Openat(dirfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return t.err(path.Join(rel, name), err)
	}
	t.made = append(t.made, entry{dirfd: dirfd, name: name})
	f := os.NewFile(uintptr(fd), name)
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Chmod(0o644)
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return t.err(path.Join(rel, name), cli.PathCause(werr))
	}
	return nil
}

// symlink makes the symlink name -> target in the directory dirfd.
func (t *tree) symlink(dirfd int, rel, name, target string) error {
	if err := unix.Symlinkat(target, dirfd, name); err != nil {
		return t.err(path.Join(rel, name), err)
	}
	t.made = append(t.made, entry{dirfd: dirfd, name: name})
	return nil
}

func (t *tree) name(rel string) string { return path.Join(t.root, rel) }

func (t *tree) err(rel string, err error) error {
	if errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("%s: exists already; nix-db writes a new database: %w", t.name(rel), errdefs.ErrInvalidInput)
	}
	return fmt.Errorf("%s: %w", t.name(rel), err)
}

// undo removes what was made, the last first.
func (t *tree) undo() {
	for i := len(t.made) - 1; i >= 0; i-- {
		e := t.made[i]
		flags := 0
		if e.dir {
			flags = unix.AT_REMOVEDIR
		}
		unix.Unlinkat(e.dirfd, e.name, flags)
	}
}

func (t *tree) close() {
	for _, fd := range t.fds {
		unix.Close(fd)
	}
	unix.Close(t.fd)
}
