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
	"sync/atomic"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

// Cache is a layer cache directory. Its methods are safe for concurrent use,
// by goroutines and by processes.
type Cache struct {
	dir  string   // DIR/v1 as given, for messages and tests
	root *os.Root // DIR/v1: no record is read or written outside it
	// off: a record could not be written (a full disk, the directory
	// removed during the run); no other is tried, so that the caller
	// warns once, not once per layer.
	off atomic.Bool
}

// trusts is what a cache directory decides, for cli.OwnDir's refusal.
const trusts = "the layers of the images built with it"

// Open returns the cache in dir, creating dir when it does not exist. dir
// and its v1 must be the user's own and writable by nobody else
// (cli.OwnDir): layer-pack --reuse takes a record's diff_id without
// reading a file, so whoever can write the records decides what the
// images hold. Below dir, nothing is followed out of v1 (os.Root): a
// record or directory that is a symlink out of it is not read or written
// through.
func Open(dir string) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("cache: no directory given")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache %q: %w", dir, cli.PathCause(err))
	}
	top, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("cache %q: %w", dir, cli.PathCause(err))
	}
	defer top.Close()
	if err := checkOwn(top); err != nil {
		return nil, fmt.Errorf("cache %q: %w", dir, err)
	}
	if err := top.Mkdir("v1", 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("cache %q: %w", dir, cli.PathCause(err))
	}
	root, err := top.OpenRoot("v1")
	if err != nil {
		return nil, fmt.Errorf("cache %q: v1: %w", dir, cli.PathCause(err))
	}
	if err := checkOwn(root); err != nil {
		root.Close()
		return nil, fmt.Errorf("cache %q: v1: %w", dir, err)
	}
	return &Cache{dir: filepath.Join(dir, "v1"), root: root}, nil
}

// checkOwn applies cli.OwnDir to the directory r is.
func checkOwn(r *os.Root) error {
	fi, err := r.Stat(".")
	if err != nil {
		return cli.PathCause(err)
	}
	return cli.OwnDir(fi, trusts)
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

// layerRecord carries its key, so that a record under another key's name
// (a hash collision, a file copied by hand) is not taken for this one.
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

// Layer looks up a store layer: ErrNotCached when there is no record,
// ErrBadRecord (naming the file and the cause) when its record does not
// verify.
func (c *Cache) Layer(k Key) (Layer, error) {
	p := c.layerPath(k)
	var r layerRecord
	if err := c.readRecord(p, &r); err != nil {
		return Layer{}, err
	}
	if !validDigest(r.DiffID) || r.Size < 0 {
		return Layer{}, badRecord(p, "not a diff_id and a size")
	}
	if r.Key.Paths == nil {
		r.Key.Paths = []string{}
	}
	if k.Paths == nil {
		k.Paths = []string{}
	}
	if !reflect.DeepEqual(r.Key, k) {
		return Layer{}, badRecord(p, "the record is for another key")
	}
	return r.Layer, nil
}

// PutLayer records a store layer's diff_id and size.
func (c *Cache) PutLayer(k Key, l Layer) error {
	if !validDigest(l.DiffID) || l.Size < 0 {
		return fmt.Errorf("cache: layer %+v: %w", l, errInvalid)
	}
	return c.writeRecord(c.layerPath(k), layerRecord{Key: k, Layer: l})
}

var errInvalid = errors.New("not a sha256 digest and a size")

func (c *Cache) blobPath(diffID string, kind compress.Kind) string {
	hex := strings.TrimPrefix(diffID, "sha256:")
	return filepath.Join(c.dir, "blobs", oci.Recipe(kind), hex[:2], hex+".json")
}

// blobRecord carries its key (the diff_id and the recipe), as layer
// records do.
type blobRecord struct {
	DiffID string `json:"diff_id"`
	Recipe string `json:"recipe"`
	layerstream.Blob
}

// Blob looks up the blob that compressing the layer tar diffID with kind's
// recipe gives: ErrNotCached or ErrBadRecord as for Layer. For
// compress.None it is the layer itself, which needs no record: its digest
// is the diff_id, but its size is not known here, so callers handle None
// themselves (ErrNotCached).
func (c *Cache) Blob(diffID string, kind compress.Kind) (layerstream.Blob, error) {
	if !validDigest(diffID) || kind == compress.None {
		return layerstream.Blob{}, ErrNotCached
	}
	p := c.blobPath(diffID, kind)
	var r blobRecord
	if err := c.readRecord(p, &r); err != nil {
		return layerstream.Blob{}, err
	}
	if r.DiffID != diffID || r.Recipe != oci.Recipe(kind) {
		return layerstream.Blob{}, badRecord(p, "the record is for another layer or recipe")
	}
	if !validDigest(r.Digest) || r.Size < 0 || r.MediaType != oci.LayerMediaType(kind) {
		return layerstream.Blob{}, badRecord(p, "not a digest, a size and the recipe's media type")
	}
	return r.Blob, nil
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
	return c.writeRecord(c.blobPath(diffID, kind), blobRecord{DiffID: diffID, Recipe: oci.Recipe(kind), Blob: b})
}

// sourceRecord carries its key (the host and the digest), as layer
// records do.
type sourceRecord struct {
	Host       string `json:"host"`
	Digest     string `json:"digest"`
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
// digest when last seen there, for a cross-repository mount: ErrNotCached
// or ErrBadRecord as for Layer.
func (c *Cache) Source(host, digest string) (string, error) {
	p, ok := c.sourcePath(host, digest)
	if !ok {
		return "", ErrNotCached
	}
	var r sourceRecord
	if err := c.readRecord(p, &r); err != nil {
		return "", err
	}
	if r.Host != host || r.Digest != digest || r.Repository == "" {
		return "", badRecord(p, "not a repository of this host for this blob")
	}
	return r.Repository, nil
}

// PutSource remembers that repository repo of registry host holds the blob
// digest.
func (c *Cache) PutSource(host, digest, repo string) error {
	p, ok := c.sourcePath(host, digest)
	if !ok || repo == "" {
		return fmt.Errorf("cache: source %q of %s on %q: %w", repo, digest, host, errInvalid)
	}
	return c.writeRecord(p, sourceRecord{Host: host, Digest: digest, Repository: repo})
}
