package main

import (
	"archive/tar"
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

// tarBlobs stores an OCI layout in a tar. A tar header needs the blob's
// name, its digest, before the bytes: each blob is spooled to a temporary
// file (unlinked at once, in $TMPDIR) and copied into the tar once its
// digest is known. A spool lives until its blob is committed: one at a
// time, or --jobs when layers are compressed in parallel.
type tarBlobs struct {
	tw      *tar.Writer
	stored  map[string]bool
	started bool
}

func newTarBlobs(w io.Writer) *tarBlobs {
	return &tarBlobs{tw: tar.NewWriter(w), stored: map[string]bool{}}
}

func (t *tarBlobs) header(name string, typ byte, mode, size int64) error {
	// Fixed headers, as in the docker-archive: no owners, no names, mtime 1.
	return t.tw.WriteHeader(&tar.Header{Typeflag: typ, Name: name, Size: size, Mode: mode, ModTime: archive.MemberTime})
}

func (t *tarBlobs) file(name string, data []byte) error {
	if err := t.header(name, tar.TypeReg, 0o644, int64(len(data))); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if _, err := t.tw.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// newBlob may be called from several goroutines; commit only in order,
// from one.
func (t *tarBlobs) newBlob() (*pendingBlob, error) {
	f, err := os.CreateTemp("", "manifest-gen-blob-*")
	if err != nil {
		return nil, fmt.Errorf("spooling a blob: %w", err)
	}
	// Unlinked at once: the space is freed even if the process is killed.
	os.Remove(f.Name())
	b := &pendingBlob{bw: bufio.NewWriterSize(f, 1<<20), discard: func() { f.Close() }}
	b.commit = func(digest string, size int64) error {
		defer f.Close()
		if err := b.bw.Flush(); err != nil {
			return fmt.Errorf("spooling a blob: %w", err)
		}
		return t.copyIn(digest, io.NewSectionReader(f, 0, size), size)
	}
	return b, nil
}

func (t *tarBlobs) copyIn(digest string, r io.Reader, size int64) error {
	if err := checkBlobDigest(digest); err != nil {
		return err
	}
	if !t.started {
		t.started = true
		for _, d := range []string{"blobs/", "blobs/sha256/"} {
			if err := t.header(d, tar.TypeDir, 0o755, 0); err != nil {
				return fmt.Errorf("writing %s: %w", d, err)
			}
		}
	}
	if t.stored[digest] {
		return nil // an equal layer's blob is in the tar already
	}
	name := blobPath(digest)
	if err := t.header(name, tar.TypeReg, 0o644, size); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	n, err := io.Copy(t.tw, r)
	if err == nil && n != size {
		err = fmt.Errorf("spooled %d bytes of %d", n, size)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	t.stored[digest] = true
	return nil
}

func (t *tarBlobs) close() error {
	if err := t.tw.Close(); err != nil {
		return fmt.Errorf("writing the archive: %w", err)
	}
	return nil
}

// dirBlobs stores an OCI layout in a directory (the temporary one of
// openDirOutput): a blob is written to a temporary file in blobs/sha256/
// and renamed to its digest.
type dirBlobs struct {
	dir string
}

// newDirBlobs makes blobs/sha256 at once: a compressor still running
// after a failure must find it gone, not make it again.
func newDirBlobs(dir string) (*dirBlobs, error) {
	d := &dirBlobs{dir: dir}
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
// is renamed to DIR on commit (DIR must not exist, or be empty), and
// removed on abort, so DIR never holds a partial layout.
func openDirOutput(dir string) (*output, error) {
	if err := checkDirTarget(dir); err != nil {
		return nil, err
	}
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	done := false
	out := &output{dir: tmp}
	out.abort = func() {
		if !done {
			done = true
			if out.settle != nil {
				out.settle() // nothing may write into tmp once it is removed
			}
			os.RemoveAll(tmp)
		}
	}
	out.commit = func() error {
		if err := checkDirTarget(dir); err != nil {
			out.abort()
			return err
		}
		os.Remove(dir) // an empty directory, or nothing
		if err := os.Chmod(tmp, 0o755); err != nil {
			out.abort()
			return fmt.Errorf("writing %s: %w", dir, err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			out.abort()
			return fmt.Errorf("writing %s: %w", dir, err)
		}
		done = true
		return nil
	}
	return out, nil
}

// checkDirTarget refuses a DIR that exists and is not an empty directory:
// the layout is never mixed with other files.
func checkDirTarget(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("-o %q: %w", dir, cli.PathCause(err))
	case len(entries) > 0:
		return fmt.Errorf("-o %q: the directory is not empty; the layout is written to a new or empty directory: %w", dir, fs.ErrExist)
	}
	return nil
}
