package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
)

// tarBlobs stores an OCI layout in a tar (archive.LayoutWriter). A tar
// header needs the blob's name, its digest, before the bytes: each blob
// is spooled (archive.Spool: an unlinked temporary file in $TMPDIR) and
// copied into the tar once its digest is known. A spool lives until its
// blob is committed: one at a time, or --jobs when layers are compressed
// in parallel.
type tarBlobs struct {
	lw *archive.LayoutWriter
}

func newTarBlobs(w io.Writer) *tarBlobs { return &tarBlobs{lw: archive.NewLayoutWriter(w)} }

func (t *tarBlobs) file(name string, data []byte) error { return t.lw.File(name, data) }

// newBlob may be called from several goroutines; commit only in order,
// from one.
func (t *tarBlobs) newBlob() (*pendingBlob, error) {
	s, err := archive.NewSpool("manifest-gen-blob")
	if err != nil {
		return nil, err
	}
	return &pendingBlob{bw: s.W, discard: s.Discard, commit: func(digest string, size int64) error {
		return s.Commit(t.lw, digest, size)
	}}, nil
}

func (t *tarBlobs) close() error { return t.lw.Close() }

// dirBlobs stores an OCI layout in a directory (the temporary one of
// openDirOutput): a blob is written to a temporary file in blobs/sha256/
// and renamed to its digest.
type dirBlobs struct {
	dir string
	old *oldLayout // the layout rebuilt, whose blobs references take; nil: none
}

// newDirBlobs makes blobs/sha256 at once: a compressor still running
// after a failure must find it gone, not make it again.
func newDirBlobs(dir string, old *oldLayout) (*dirBlobs, error) {
	d := &dirBlobs{dir: dir, old: old}
	if err := os.MkdirAll(d.blobDir(), 0o755); err != nil {
		return nil, fmt.Errorf("writing %s: %w", dir, cli.PathCause(err))
	}
	return d, nil
}

func (d *dirBlobs) blobDir() string { return filepath.Join(d.dir, "blobs", "sha256") }

func (d *dirBlobs) file(name string, data []byte) error {
	if err := os.WriteFile(filepath.Join(d.dir, name), data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

func (d *dirBlobs) newBlob() (*pendingBlob, error) {
	f, err := os.CreateTemp(d.blobDir(), ".tmp-*")
	if err != nil {
		return nil, err
	}
	b := &pendingBlob{bw: bufio.NewWriterSize(f, 1<<20), discard: func() { f.Close(); os.Remove(f.Name()) }}
	b.commit = func(digest string, size int64) error {
		err := checkBlobDigest(digest)
		if err == nil {
			err = b.bw.Flush()
		}
		if err == nil {
			// A rebuild with --cache links DIR's blobs on their names and
			// sizes, unread: one a crash left named but unwritten (zeros,
			// on XFS) would go into every later layout (see layerTars.sync).
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(f.Name(), 0o644)
		}
		if err == nil {
			err = os.Rename(f.Name(), filepath.Join(d.dir, blobPath(digest)))
		}
		if err != nil {
			os.Remove(f.Name())
			return fmt.Errorf("writing blob %s: %w", digest, cli.PathCause(err))
		}
		return nil
	}
	return b, nil
}

func (d *dirBlobs) close() error { return nil }

// openDirOutput makes the directory for -o DIR: a temporary sibling that
// replaces DIR on commit, and is removed on abort, so DIR never holds a
// partial layout. A new or empty DIR is renamed over; a layout written
// before (oldLayout) is exchanged with the new one in one rename, and then
// removed with the blobs no longer referenced, the reused ones staying as
// links in the new layout: the result is the same files as a fresh build.
func openDirOutput(o *cli.IO, dir string) (*output, error) {
	old, err := readOldLayout(dir)
	if err != nil {
		return nil, err
	}
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	tmp, hold, err := mkdirOutputTemp(o, parent, "."+base+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	done := false
	out := &output{dir: tmp, old: old}
	out.abort = func() {
		if !done {
			done = true
			if out.settle != nil {
				out.settle() // nothing may write into tmp once it is removed
			}
			os.RemoveAll(tmp)
			hold.Close()
		}
	}
	out.commit = func() error {
		err := os.Chmod(tmp, 0o755)
		var now *oldLayout
		// DIR is checked again: it may have changed during the build. A
		// new DIR may be taken between the check and the rename, by
		// another build into it finishing at the same time: it is
		// checked once more, and that layout replaced as one there
		// before would be.
		for try := 0; err == nil; try++ {
			now, err = readOldLayout(dir)
			if testHookCommitChecked != nil {
				testHookCommitChecked()
			}
			if err != nil {
				err = fmt.Errorf("it changed during the build: %w", err)
				break
			}
			if now != nil {
				// The layout taken out of DIR goes under tmp's name, where
				// another build's cleanup of killed builds' temporaries
				// (mkdirOutputTemp) would take it for one, unheld, and
				// remove it as it is checked: it is held until removed.
				// One that cannot be locked at once (a commit into DIR
				// just ending) goes unheld.
				if unlockOld, lerr := cli.LockDir(dir, 0); lerr == nil {
					defer unlockOld()
				}
				if err = cli.ExchangeDirs(tmp, dir); err == nil {
					if testHookExchanged != nil {
						testHookExchanged()
					}
					if done, err = checkReplaced(tmp, dir, now); done {
						hold.Close()
					}
				}
				break
			}
			os.Remove(dir) // an empty directory, or nothing
			if err = os.Rename(tmp, dir); try > 0 || !errors.Is(err, fs.ErrExist) {
				break
			}
			err = nil
		}
		if err != nil {
			out.abort()
			return fmt.Errorf("writing %s: %w", dir, cli.PathCause(err))
		}
		defer hold.Close()
		if now != nil {
			// The old layout; a failure leaves only a hidden sibling,
			// which the next build removes (mkdirOutputTemp).
			os.RemoveAll(tmp)
			if n := len(now.attached); n > 0 && (out.old == nil || !out.old.kept || len(out.old.attached) != n) {
				why := "of the image the rebuild replaces (signatures, SBOMs): attach them to the new image again"
				if out.old != nil && out.old.dropped != "" {
					why = "(signatures, SBOMs) of its image, which the rebuild did not change: " + out.old.dropped
				}
				o.Logf("warning: -o %q: dropping %d artifacts %s", dir, n, why)
			}
		}
		done = true
		return nil
	}
	return out, nil
}

// checkReplaced checks the layout the exchange took out of DIR, now in
// tmp, against now, what DIR was at the commit's last check: another
// tool may have added an image or an artifact in between (skopeo copy …
// oci:DIR:TAG, oras attach), which the rebuild would drop unsaid. Then
// the layouts are exchanged back and it is an error, in DIR's words. (A
// tool still writing into DIR by name as the exchanges run can write
// into either layout: no rename excludes it.) kept reports that tmp
// holds the layout taken out of DIR, which could not be put back.
func checkReplaced(tmp, dir string, now *oldLayout) (kept bool, err error) {
	was, err := readOldLayout(tmp)
	if err == nil && (was == nil || len(was.attached) == len(now.attached)) {
		return false, nil
	}
	if xerr := cli.ExchangeDirs(tmp, dir); xerr != nil {
		return true, fmt.Errorf("it changed as it was replaced, and what it held is left in %s (move it away: the next build into it removes that): %w", tmp, xerr)
	}
	if _, err := readOldLayout(dir); err != nil {
		return false, fmt.Errorf("it changed as it was replaced: %w", err)
	}
	return false, errors.New("it changed as it was replaced: another tool added an artifact to it")
}

// mkdirOutputTemp makes the temporary directory of -o DIR in parent,
// named prefix and a number, held by this run until hold is closed
// (cli.MkdirHeldTemp); first it removes those of earlier runs into DIR
// that were killed (SIGKILL skips every cleanup) and that no live run
// holds. It returns the directory's path.
func mkdirOutputTemp(o *cli.IO, parent, prefix string) (string, *os.File, error) {
	root, err := os.OpenRoot(parent)
	if errors.Is(err, fs.ErrPermission) {
		// A parent the user may write but not read (mode 0733): no
		// build of the user's can list it to remove a temporary, so
		// this one needs no hold (closing the nil hold does nothing).
		tmp, err := os.MkdirTemp(parent, prefix+"*")
		return tmp, nil, err
	}
	if err != nil {
		return "", nil, err
	}
	defer root.Close()
	for _, name := range cli.RemoveStaleTemps(root, prefix) {
		o.Debugf("removed %s, left by a build that was killed", filepath.Join(parent, name))
	}
	name, hold, err := cli.MkdirHeldTemp(root, prefix)
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(parent, name), hold, nil
}

// testHookCommitChecked, when set (by tests), runs in an oci-dir commit
// once DIR has been checked, before the new layout takes its place:
// another build can finish there.
var testHookCommitChecked func()

// testHookExchanged, when set (by tests), runs in an oci-dir commit once
// the new layout and the old have been exchanged, before the old one
// (now the temporary) is checked.
var testHookExchanged func()
