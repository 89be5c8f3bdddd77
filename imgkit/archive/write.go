package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"time"

	"dockertools.dev/imgkit/pyjson"
)

// Writer writes a docker-archive (Docker's docker save layout, Image Spec
// v1.2) as a stream, the one writer of the tools (manifest-gen, tar-merge
// --merge): layer members as they come, then each image's config, then
// manifest.json and repositories. Open reads what it writes.
//
// Layer members are named by position: "000/layer.tar" for the first
// layer written, "001/layer.tar" next. A member's name is in its header,
// before its bytes, and manifest-gen copies layers as they arrive: it
// learns a layer's digest after its bytes (the layer stream's trailer),
// so nixpkgs' digest names ("<sha256>/layer.tar", reference §5.2) would
// cost a second pass or a spooled copy of every layer. A position is known
// at once and never repeats, where nixpkgs writes one name twice for two
// equal layers; a layer several images share (a merge) is written once
// and listed by each. Loaders take the names from manifest.json, and
// nothing reads meaning into them.
//
// Every header is fixed: a regular file, mode 0644, owner 0:0 without
// names, mtime 1 (1970-01-01T00:00:01Z, nixpkgs' default); USTAR, or PAX
// for a member of 8 GiB or more. A layer member's bytes start at a
// multiple of LayerAlign: where the USTAR header alone would not put them
// there, a PAX extended header comes first, named
// "NNN/PaxHeaders.0/layer.tar" with mode 0 and mtime 0, holding one
// "comment" record of spaces that fills it to the boundary (the size
// record of a member of 8 GiB or more beside it). Readers ignore a
// comment (POSIX pax, GNU tar, Go's archive/tar and so docker load and
// skopeo); only the archive's framing changes, never a layer's bytes. manifest.json is what nixpkgs writes
// (Python's json.dumps with indent=4: keys Config, RepoTags, Layers, no
// newline at the end); repositories is compact JSON and a newline, each
// tag naming the directory of its image's top layer as docker save does,
// repositories and tags in byte order. The bytes depend on the content
// and the order of the calls alone.
type Writer struct {
	members
	layers   int
	manifest pyjson.Array
	repos    map[string]map[string]string // repository → tag → top layer directory
}

// MemberTime is the modification time of every member of the archives the
// tools write (this docker-archive, manifest-gen's OCI layout in a tar):
// 1970-01-01T00:00:01Z, nixpkgs' default.
var MemberTime = time.Unix(1, 0)

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	m := newMembers(w)
	m.tm.Align = LayerAlign
	return &Writer{members: m, repos: map[string]map[string]string{}}
}

// LayerAlign is where the bytes of a Writer's layer members start: at
// multiples of 4096 bytes from the start of the archive, the block size of
// the file systems that share extents (XFS, Btrfs), so that copying a
// layer from a file of its own into an archive file (manifest-gen
// --layer-tars) can be a reflink rather than a copy of every byte.
const LayerAlign = 4096

// LayerMember is the name of the layer written at position i.
func LayerMember(i int) string { return fmt.Sprintf("%03d/layer.tar", i) }

// AddLayer copies the next layer, exactly size bytes of r, and returns its
// member name. A reader that ends sooner is an error wrapping
// io.ErrUnexpectedEOF; one that goes on is not read further (see
// Layer.CopyUncompressed). When the Writer writes to a file or a pipe
// (an *os.File, maybe behind a bufio.Writer) and r is one too, the
// kernel copies the bytes (see members).
func (w *Writer) AddLayer(size int64, r io.Reader) (string, error) {
	name := LayerMember(w.layers)
	if err := w.copy(name, size, r); err != nil {
		return "", err
	}
	w.layers++
	return name, nil
}

// AddImage writes config as "<sha256>.json" and lists the image in
// manifest.json, with its tags (NAME:TAG) and its layers, the members
// AddLayer named, bottom first.
func (w *Writer) AddImage(config []byte, tags []string, layers []string) error {
	sum := sha256.Sum256(config)
	configName := hex.EncodeToString(sum[:]) + ".json"
	if err := w.file(configName, config); err != nil {
		return err
	}
	w.manifest = append(w.manifest, pyjson.NewObject(
		pyjson.Member{Key: "Config", Value: pyjson.String(configName)},
		pyjson.Member{Key: "RepoTags", Value: pyjson.Strings(tags)},
		pyjson.Member{Key: "Layers", Value: pyjson.Strings(layers)},
	))
	top := ""
	if n := len(layers); n > 0 {
		top = path.Dir(layers[n-1])
	}
	for _, t := range tags {
		name, tag := SplitRef(t)
		if w.repos[name] == nil {
			w.repos[name] = map[string]string{}
		}
		w.repos[name][tag] = top
	}
	return nil
}

// Close writes manifest.json and, when an image has a tag, repositories,
// and ends the tar. It does not close the underlying writer.
func (w *Writer) Close() error {
	if err := w.file("manifest.json", pyjson.Dumps(w.manifest, 4)); err != nil {
		return err
	}
	if len(w.repos) > 0 {
		var repos []pyjson.Member
		for _, name := range slices.Sorted(maps.Keys(w.repos)) {
			var tags []pyjson.Member
			for _, tag := range slices.Sorted(maps.Keys(w.repos[name])) {
				tags = append(tags, pyjson.Member{Key: tag, Value: pyjson.String(w.repos[name][tag])})
			}
			repos = append(repos, pyjson.Member{Key: name, Value: pyjson.NewObject(tags...)})
		}
		compact := pyjson.Options{Indent: pyjson.None, ItemSeparator: ",", KeySeparator: ":"}
		if err := w.file("repositories", append(compact.Dumps(pyjson.NewObject(repos...)), '\n')); err != nil {
			return err
		}
	}
	if err := w.tw.Close(); err != nil {
		return fmt.Errorf("writing the archive: %w", err)
	}
	return nil
}
