package layercache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"

	"dockertools.dev/imgkit/cli"
)

var (
	// ErrNotCached: the cache has no record for what was asked.
	ErrNotCached = errors.New("not in the layer cache")
	// ErrBadRecord: the cache has a record for what was asked, but one
	// that does not verify (its checksum, its own key, its fields) or has
	// no checksum (an older format). It is ignored, as a miss, and the
	// caller writes it again once it learns the value.
	ErrBadRecord = errors.New("a layer cache record that does not verify; ignored")
)

// envelope is a record as stored: the record's JSON and the hex sha256 of
// exactly those bytes, so that a record changed by hand, truncated or
// garbled by the disk does not verify.
type envelope struct {
	SHA256 string          `json:"sha256"`
	Record json.RawMessage `json:"record"`
}

// maxRecord bounds what is read of a record: a few hundred bytes are
// normal; a layer key lists store paths, which may be many.
const maxRecord = 16 << 20

// readRecord reads the record at path (below c.dir) into v, checking its
// checksum. ErrNotCached when there is no file; ErrBadRecord (with the
// cause) when the file is there but not a whole, verified record of v's
// shape: among others, a record that is a symlink out of the cache, one
// another user owns or that group or others may write, a
// FIFO (not waited on), a device or a file larger than maxRecord (not
// read to its end).
func (c *Cache) readRecord(path string, v any) error {
	f, err := c.root.OpenFile(c.rel(path), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotCached
	}
	if err != nil {
		return badRecord(path, cli.PathCause(err).Error())
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return badRecord(path, cli.PathCause(err).Error())
	}
	if !fi.Mode().IsRegular() {
		return badRecord(path, "not a regular file")
	}
	// Another user who owns or may write the record (a hard link to
	// their file; a record directory opened to them, where they can
	// plant one) can rewrite it, checksum and all, as the directory's
	// own check (Open) is meant to exclude.
	if err := cli.OwnDir(fi, trusts); err != nil {
		return badRecord(path, err.Error())
	}
	if fi.Size() > maxRecord {
		return badRecord(path, "larger than a record")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxRecord+1))
	if err != nil {
		return badRecord(path, cli.PathCause(err).Error())
	}
	if len(data) > maxRecord {
		return badRecord(path, "larger than a record")
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return badRecord(path, "not JSON")
	}
	if env.SHA256 == "" || env.Record == nil {
		return badRecord(path, "no checksum (written by an older version)")
	}
	if sum := sha256.Sum256(env.Record); hex.EncodeToString(sum[:]) != env.SHA256 {
		return badRecord(path, "its checksum does not match its content")
	}
	dec := json.NewDecoder(bytes.NewReader(env.Record))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRecord(path, "not a record of this kind")
	}
	return nil
}

// rel is path, one of c's record paths, relative to c.dir.
func (c *Cache) rel(path string) string {
	r, err := filepath.Rel(c.dir, path)
	if err != nil {
		return path // not below c.dir: the root refuses it
	}
	return r
}

func badRecord(path, why string) error {
	return fmt.Errorf("%s: %s: %w", path, why, ErrBadRecord)
}

// writeRecord writes v as a record atomically: a temporary file in the
// same directory, renamed into place. After a record could not be
// written, the later ones are skipped (nil): the first error said why.
func (c *Cache) writeRecord(path string, v any) (err error) {
	if c.off.Load() {
		return nil
	}
	defer func() {
		if err != nil {
			c.off.Store(true)
			err = fmt.Errorf("%w; the cache takes no other record in this run", err)
		}
	}()
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	data, err := json.Marshal(envelope{SHA256: hex.EncodeToString(sum[:]), Record: body})
	if err != nil {
		return err
	}
	data = append(data, '\n')
	dir := filepath.Dir(c.rel(path))
	if err := c.root.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cache: %s: %w", filepath.Dir(path), cli.PathCause(err))
	}
	f, tmp, err := c.createTemp(dir)
	if err != nil {
		return fmt.Errorf("cache: %s: %w", filepath.Dir(path), cli.PathCause(err))
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = c.root.Rename(tmp, c.rel(path))
	}
	if err != nil {
		c.root.Remove(tmp)
		return fmt.Errorf("cache: writing %s: %w", path, cli.PathCause(err))
	}
	return nil
}

// createTemp creates a new temporary file, ".tmp-<random>", in dir below
// the cache, returning it and its name there.
func (c *Cache) createTemp(dir string) (*os.File, string, error) {
	for range 100 {
		name := filepath.Join(dir, fmt.Sprintf(".tmp-%016x", rand.Uint64()))
		f, err := c.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, name, err
	}
	return nil, "", fs.ErrExist
}
