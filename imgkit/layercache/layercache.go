package layercache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

// Cache is a layer cache directory. Its methods are safe for concurrent use,
// by goroutines and by processes.
type Cache struct {
	dir string
}

// Open returns the cache in dir, creating dir when it does not exist.
func Open(dir string) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("cache: no directory given")
	}
	if err := os.MkdirAll(filepath.Join(dir, "v1"), 0o755); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return &Cache{dir: filepath.Join(dir, "v1")}, nil
}

// Key identifies a store layer's bytes.
type Key struct {
	// Rules names the byte rules of the writer (its version): a change
	// to the bytes a writer produces for the same inputs must change it.
	Rules    string `json:"rules"`
	StoreDir string `json:"store_dir"`
	Mtime    int64  `json:"mtime"`
	UID      int64  `json:"uid"`
	GID      int64  `json:"gid"`
	Uname    string `json:"uname"`
	Gname    string `json:"gname"`
	// Paths are the layer's store paths, in layer order.
	Paths []string `json:"paths"`
}

// ID is the hex sha256 of the key's JSON encoding.
func (k Key) ID() string {
	if k.Paths == nil {
		k.Paths = []string{} // an empty store layer: [] and nil are the same layer
	}
	b, _ := json.Marshal(k) // strings and numbers only: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Layer is what the cache knows of a store layer's tar.
type Layer struct {
	DiffID string `json:"diff_id"`
	Size   int64  `json:"size"`
}

type layerRecord struct {
	Key Key `json:"key"`
	Layer
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func validDigest(d string) bool { return digestRE.MatchString(d) }

func (c *Cache) layerPath(k Key) string {
	id := k.ID()
	return filepath.Join(c.dir, "layers", id[:2], id+".json")
}

// Layer looks up a store layer. A missing, unreadable or malformed record is
// a miss.
func (c *Cache) Layer(k Key) (Layer, bool) {
	var r layerRecord
	if !readJSON(c.layerPath(k), &r) || !validDigest(r.DiffID) || r.Size < 0 {
		return Layer{}, false
	}
	if r.Key.Paths == nil {
		r.Key.Paths = []string{}
	}
	if k.Paths == nil {
		k.Paths = []string{}
	}
	if !reflect.DeepEqual(r.Key, k) {
		return Layer{}, false
	}
	return r.Layer, true
}

// PutLayer records a store layer's diff_id and size.
func (c *Cache) PutLayer(k Key, l Layer) error {
	if !validDigest(l.DiffID) || l.Size < 0 {
		return fmt.Errorf("cache: layer %+v: %w", l, errInvalid)
	}
	return writeJSON(c.layerPath(k), layerRecord{Key: k, Layer: l})
}

var errInvalid = errors.New("not a sha256 digest and a size")

func (c *Cache) blobPath(diffID string, kind compress.Kind) string {
	hex := strings.TrimPrefix(diffID, "sha256:")
	return filepath.Join(c.dir, "blobs", oci.Recipe(kind), hex[:2], hex+".json")
}

type blobRecord struct {
	DiffID string `json:"diff_id"`
	layerstream.Blob
}

// Blob looks up the blob that compressing the layer tar diffID with kind's
// recipe gives. For compress.None it is the layer itself, which needs no
// record: its digest is the diff_id, but its size is not known here, so
// callers handle None themselves.
func (c *Cache) Blob(diffID string, kind compress.Kind) (layerstream.Blob, bool) {
	if !validDigest(diffID) || kind == compress.None {
		return layerstream.Blob{}, false
	}
	var r blobRecord
	if !readJSON(c.blobPath(diffID, kind), &r) || r.DiffID != diffID || !validDigest(r.Digest) || r.Size < 0 || r.MediaType != oci.LayerMediaType(kind) {
		return layerstream.Blob{}, false
	}
	return r.Blob, true
}

// PutBlob records the blob that kind's recipe makes of the layer tar
// diffID. Only a blob made by that recipe belongs here (not one found in a
// registry, whose compressor is unknown).
func (c *Cache) PutBlob(diffID string, kind compress.Kind, b layerstream.Blob) error {
	if kind == compress.None {
		return nil
	}
	if !validDigest(diffID) || !validDigest(b.Digest) || b.Size < 0 || b.MediaType != oci.LayerMediaType(kind) {
		return fmt.Errorf("cache: blob %+v of %s: %w", b, diffID, errInvalid)
	}
	return writeJSON(c.blobPath(diffID, kind), blobRecord{DiffID: diffID, Blob: b})
}

type sourceRecord struct {
	Repository string `json:"repository"`
}

func (c *Cache) sourcePath(host, digest string) (string, bool) {
	if !validDigest(digest) || host == "" || strings.ContainsAny(host, `/\`) || host == "." || host == ".." {
		return "", false
	}
	hex := strings.TrimPrefix(digest, "sha256:")
	return filepath.Join(c.dir, "sources", host, hex[:2], hex+".json"), true
}

// Source returns a repository of the registry host that held the blob
// digest when last seen there, for a cross-repository mount.
func (c *Cache) Source(host, digest string) (string, bool) {
	p, ok := c.sourcePath(host, digest)
	var r sourceRecord
	if !ok || !readJSON(p, &r) || r.Repository == "" {
		return "", false
	}
	return r.Repository, true
}

// PutSource remembers that repository repo of registry host holds the blob
// digest.
func (c *Cache) PutSource(host, digest, repo string) error {
	p, ok := c.sourcePath(host, digest)
	if !ok || repo == "" {
		return fmt.Errorf("cache: source %q of %s on %q: %w", repo, digest, host, errInvalid)
	}
	return writeJSON(p, sourceRecord{Repository: repo})
}

// readJSON reads a record; false for any failure (a miss).
func readJSON(path string, v any) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	return json.Unmarshal(data, v) == nil
}

// writeJSON writes a record atomically: a temporary file in the same
// directory, renamed into place.
func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cache: writing %s: %w", path, err)
	}
	return nil
}
