package graphplan

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"dockertools.dev/imgkit/bounded"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/nar"
	"dockertools.dev/imgkit/percore"

	"dockertools.dev/imgkit/poll"
	"dockertools.dev/imgkit/sniff"
)

// PathInfo is one node of a closure graph: a store path, the hash (when
// known) and size of its NAR serialisation, and the store paths it
// references (itself included when it refers to itself).
type PathInfo struct {
	Path string `json:"path"`
	// NarHash is "sha256:" and Nix's base32 (imgkit/nar), or "" when
	// not known. A reader keeps a value that is no NAR hash as it is
	// (nixpkgs' test graphs say "sha256:x"): whoever uses it checks it.
	NarHash    string   `json:"narHash,omitempty"`
	NarSize    uint64   `json:"narSize"`
	References []string `json:"references"`
}

// Graph is a closure graph. In canonical form it is sorted by path, every
// reference list is sorted and free of duplicates, and every reference names
// a node of the graph.
type Graph []PathInfo

// WriteGraph writes g in canonical form: a JSON array with one node per line.
func WriteGraph(w io.Writer, g Graph) error {
	return writeLines(w, g.Canonical())
}

// Canonical returns a sorted copy of g with sorted, de-duplicated reference
// lists (never nil, so they encode as []).
func (g Graph) Canonical() Graph {
	out := make(Graph, len(g))
	for i, n := range g {
		refs := slices.Clone(n.References)
		slices.Sort(refs)
		refs = slices.Compact(refs)
		if refs == nil {
			refs = []string{}
		}
		out[i] = PathInfo{Path: n.Path, NarHash: n.NarHash, NarSize: n.NarSize, References: refs}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// ReadGraph reads a closure graph in any of the accepted shapes:
//
//   - our canonical array, or the array printed by `nix path-info --json`
//     (extra fields such as deriver are ignored; narHash is kept, in
//     imgkit/nar's FormatHash notation when it is a NAR hash);
//   - the object keyed by store path printed by newer Nix versions, whose
//     references may be full paths or bare store-path names;
//   - exportReferencesGraph's structured-attrs file: an object whose member
//     key holds the array. An empty key picks the only array-valued member.
//
// A node's keys are matched exactly, as Nix and nixpkgs' scripts read
// them: "PATH" is not path (keys.go), and a repeated key's last value
// counts.
//
// The result is canonical and closed: a reference to a path that is not a
// node of the graph, a duplicate node, or a path that is relative, not
// clean, not UTF-8 or holds a NUL or a newline is an error wrapping
// errdefs.ErrInvalidInput.
//
// A regular file of 1 MiB or more is mapped rather than read (mapfile.go);
// one cut short or grown while it is read is an error wrapping
// errdefs.ErrChanged. Either way r is left at its end. Anything else is
// read within 2 GiB (512 MiB in a 32-bit program; errdefs.ErrTooLarge
// past it), and a pipe or device only as far as its first bytes when
// they do not begin a JSON array or object (readStream).
func ReadGraph(r io.Reader, key string) (Graph, error) {
	return ReadGraphContext(context.Background(), r, key)
}

// ReadGraphContext is ReadGraph stopped by ctx: cancelled, it returns
// ctx's error within a moment (imgkit/poll), reading, decoding or checking.
// (The encoding/json decoder, for documents the fast one does not read,
// an object or text with escapes, is not stopped: it only starts after
// the context is seen live.)
func ReadGraphContext(ctx context.Context, r io.Reader, key string) (Graph, error) {
	var g Graph
	var closed bool
	if m, ok := mapFile(r, mapMin); ok {
		defer m.close()
		err := m.guard(func() (err error) {
			g, closed, err = decodeGraph(ctx, m.data, key, m.drop)
			return err
		})
		if err != nil {
			return nil, err
		}
		return g.check(ctx, closed)
	}
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading graph: %w", err)
	}
	// A pipe's writer stopped by the same signal ends the document short.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if g, closed, err = decodeGraph(ctx, data, key, nil); err != nil {
		return nil, err
	}
	return g.check(ctx, closed)
}

// decodeGraph decodes the document data in any of ReadGraph's shapes;
// closed reports that the fast decoder did, which checked that the graph
// is closed and lists no path twice, and made every reference list
// sorted and free of duplicates. drop is the fast decoder's.
func decodeGraph(ctx context.Context, data []byte, key string, drop func([]byte)) (g Graph, closed bool, err error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, false, fmt.Errorf("graph: %s: %w", errdefs.EmptyInput, errdefs.ErrInvalidInput)
	}
	// Another stage's document (a plan, a stream) says what it is. An
	// object is one of Nix's graph documents (its other members may be
	// anything: a structured-attrs file), so it is not judged so.
	if m, ok := sniff.Mismatch(data[:min(len(data), sniff.Len)], sniff.Graph); ok && data[0] != '{' {
		return nil, false, fmt.Errorf("graph: %s: %w", m, errdefs.ErrInvalidInput)
	}
	g, closed = decodeArrayFast(data, drop, ctx.Done())
	if err := ctx.Err(); err != nil {
		return nil, false, err // not a document to decode again
	}
	if !closed {
		// What the fast decoder accepts is UTF-8 without escapes.
		if err := checkText(data); err != nil {
			return nil, false, fmt.Errorf("graph: %w", err)
		}
	}
	switch {
	case closed:
	case data[0] == '[':
		g, err = decodeArray(data, foldedKeys(data))
	case data[0] == '{':
		g, err = decodeObject(data, key, foldedKeys(data))
	default:
		err = fmt.Errorf("graph: expected a JSON array or object: %w", errdefs.ErrInvalidInput)
	}
	return g, closed, err
}

// maxDocument bounds a graph or plan read into memory: a graph of
// 1,000,000 paths is 600 MB. A 32-bit program has 4 GiB of address
// space at most, and a slice there ends short of 2 GiB (its length is an
// int): growing a buffer towards 2 GiB panicked (makeslice: len out of
// range) past 1 GiB, so its bound is 512 MiB, which leaves room for the
// copies growing makes. A variable for the tests.
var maxDocument int64 = documentBound(strconv.IntSize)

func documentBound(intSize int) int64 {
	if intSize == 32 {
		return 512 << 20
	}
	return 2 << 30
}

// readAll is io.ReadAll, in one allocation when r is a regular file (a
// graph of 100,000 paths is 60 MB: growing to it allocates twice that).
// The buffer is made at its size rather than grown by bytes.Buffer, which
// zeroes what it grows by (600 MB for 1,000,000 paths): memory fresh from
// the system is zero already, and the runtime clears only what it reuses.
// Past maxDocument it is an error wrapping errdefs.ErrTooLarge; so is a
// regular file larger, before it is read. A pipe or device is read by
// readStream.
func readAll(r io.Reader) ([]byte, error) {
	f, ok := r.(interface{ Stat() (fs.FileInfo, error) })
	if !ok {
		return readStream(r)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return readStream(r)
	}
	if fi.Size() > maxDocument || fi.Size() > math.MaxInt-bytes.MinRead {
		return nil, tooLarge()
	}
	// Room for the whole file and more, so that the end is one more read
	// that says EOF, and a file that grows meanwhile is read to its end.
	buf := make([]byte, 0, int(fi.Size())+bytes.MinRead)
	for {
		if int64(len(buf)) > maxDocument {
			return nil, tooLarge()
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// readStream reads a pipe or device: its first bytes, and the rest only
// when they begin as a JSON array or object does. Anything else (the
// zeros of /dev/zero, a FIFO of binary data) is given to the decoder as
// it stands, which says what it is, instead of being read until memory
// runs out; the rest is read within maxDocument.
func readStream(r io.Reader) ([]byte, error) {
	head := make([]byte, 0, 4096)
	for len(head) < cap(head) {
		n, err := r.Read(head[len(head):cap(head)])
		head = head[:len(head)+n]
		if err == io.EOF {
			return head, nil
		}
		if err != nil {
			return nil, err
		}
		if t := bytes.TrimLeft(head, " \t\r\n"); len(t) > 0 {
			if t[0] != '[' && t[0] != '{' {
				return head, nil
			}
			break
		}
	}
	// The head first, read again from memory. Refused at the bound, the
	// reading holds about the bound (bounded.ReadAll), where io.ReadAll,
	// which copied it too, peaked at 4.5 GB for a 2 GiB bound.
	data, more, err := bounded.ReadAll(io.MultiReader(bytes.NewReader(head), r), maxDocument)
	if err != nil {
		return nil, err
	}
	if more {
		return nil, tooLarge()
	}
	return data, nil
}

func tooLarge() error {
	return fmt.Errorf("more than %d MiB, far more than a closure graph or layer plan: %w", maxDocument>>20, errdefs.ErrTooLarge)
}

// rawInfo is a node as Nix writes it (see keys.go for its keys' case).
type rawInfo struct {
	Path       string   `json:"path"`
	NarHash    string   `json:"narHash"`
	NarSize    *uint64  `json:"narSize"`
	References []string `json:"references"`
}

func decodeArray(data []byte, exact bool) (Graph, error) {
	raw, err := decodeInfos(data, exact)
	if err != nil {
		return nil, fmt.Errorf("graph: %v: %w", err, errdefs.ErrInvalidInput)
	}
	g := make(Graph, 0, len(raw))
	for i, r := range raw {
		if r == nil || r.Path == "" {
			return nil, fmt.Errorf("graph: entry %d has no path: %w", i, errdefs.ErrInvalidInput)
		}
		n, err := r.info(r.Path)
		if err != nil {
			return nil, err
		}
		g = append(g, n)
	}
	return g, nil
}

func decodeObject(data []byte, key string, exact bool) (Graph, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("graph: %v: %w", err, errdefs.ErrInvalidInput)
	}
	if key == "" && len(obj) > 0 && allAbsolute(obj) {
		return decodeKeyed(obj, exact)
	}
	if key == "" {
		var arrays []string
		for k, v := range obj {
			if t := bytes.TrimSpace(v); len(t) > 0 && t[0] == '[' {
				arrays = append(arrays, k)
			}
		}
		sort.Strings(arrays)
		if len(arrays) != 1 {
			return nil, fmt.Errorf("graph: the object has %d array members %q; name one with --key: %w", len(arrays), arrays, errdefs.ErrInvalidInput)
		}
		key = arrays[0]
	}
	v, ok := obj[key]
	if !ok {
		return nil, fmt.Errorf("graph: no member %q in the object: %w", key, errdefs.ErrInvalidInput)
	}
	return decodeArray(v, exact)
}

func allAbsolute(obj map[string]json.RawMessage) bool {
	for k := range obj {
		if !strings.HasPrefix(k, "/") {
			return false
		}
	}
	return true
}

// decodeKeyed reads the object form of `nix path-info --json`. A null value
// means Nix does not know the path, which is an error here. The paths are
// taken in order, so that of several bad nodes the error names the same one
// every time (a map's order changes from run to run), and the graph comes
// out sorted.
func decodeKeyed(obj map[string]json.RawMessage, exact bool) (Graph, error) {
	g := make(Graph, 0, len(obj))
	for _, p := range slices.Sorted(maps.Keys(obj)) {
		v := obj[p]
		r, err := decodeInfo(v, exact)
		if err != nil {
			return nil, fmt.Errorf("graph: %q: %v: %w", p, err, errdefs.ErrInvalidInput)
		}
		if r == nil {
			return nil, fmt.Errorf("graph: %q is not a valid store path in Nix's database: %w", p, errdefs.ErrInvalidInput)
		}
		dir := path.Dir(p)
		for i, ref := range r.References {
			if !strings.Contains(ref, "/") {
				r.References[i] = dir + "/" + ref
			}
		}
		n, err := r.info(p)
		if err != nil {
			return nil, err
		}
		g = append(g, n)
	}
	return g, nil
}

func (r *rawInfo) info(p string) (PathInfo, error) {
	if r.NarSize == nil {
		return PathInfo{}, fmt.Errorf("graph: %q has no narSize: %w", p, errdefs.ErrInvalidInput)
	}
	hash := r.NarHash
	if norm, err := nar.NormalizeHash(hash); err == nil {
		hash = norm
	}
	return PathInfo{Path: p, NarHash: hash, NarSize: *r.NarSize, References: r.References}, nil
}

// check makes g canonical, in place, and verifies its paths (a large
// graph on all cores: 0.5 s for 1,000,000 paths on one), and unless
// the decoder did (closed, see decodeGraph), that no path is listed twice,
// the graph is closed and the reference lists are in order.
//
// Cancelled, it returns ctx's error (see ReadGraphContext).
func (g Graph) check(ctx context.Context, closed bool) (Graph, error) {
	done := ctx.Done()
	g.canonicalize(closed)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if i := percore.First(len(g), chunkMin, func(i int) bool {
		if i%poll.Every == 0 && poll.Stopped(done, "check") {
			return true
		}
		return pathProblem(g[i].Path) != "" || i > 0 && g[i-1].Path == g[i].Path
	}); i < len(g) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if problem := pathProblem(g[i].Path); problem != "" {
			return nil, fmt.Errorf("graph: %q %s: %w", g[i].Path, problem, errdefs.ErrInvalidInput)
		}
		return nil, fmt.Errorf("graph: %q appears twice: %w", g[i].Path, errdefs.ErrInvalidInput)
	}
	if closed {
		return g, nil
	}
	// A set, not Index: a large graph has millions of references.
	nodes := make(map[string]struct{}, len(g))
	for _, n := range g {
		nodes[n.Path] = struct{}{}
	}
	for _, n := range g {
		for _, ref := range n.References {
			if _, ok := nodes[ref]; !ok {
				return nil, fmt.Errorf("graph: %q references %q, which is not in the graph: %w", n.Path, ref, errdefs.ErrInvalidInput)
			}
		}
	}
	return g, nil
}

// canonicalize is Canonical in place, for a graph the caller owns; what is
// in order already (a canonical document) is not sorted again, and with
// refsInOrder the reference lists are known to be.
func (g Graph) canonicalize(refsInOrder bool) {
	percore.Each(len(g), chunkMin, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			refs := g[i].References
			if !refsInOrder && !increasing(refs, strings.Compare) {
				slices.Sort(refs)
				refs = slices.Compact(refs)
			}
			if refs == nil {
				refs = []string{}
			}
			g[i].References = refs
		}
	})
	byPath := func(a, b PathInfo) int { return strings.Compare(a.Path, b.Path) }
	if !slices.IsSortedFunc(g, byPath) {
		slices.SortFunc(g, byPath)
	}
}

// increasing reports whether s is sorted by cmp and free of duplicates.
func increasing[E any](s []E, cmp func(a, b E) int) bool {
	for i := 1; i < len(s); i++ {
		if cmp(s[i-1], s[i]) >= 0 {
			return false
		}
	}
	return true
}

// Index returns the position of p in a canonical graph.
func (g Graph) Index(p string) (int, bool) {
	return sort.Find(len(g), func(i int) int { return strings.Compare(p, g[i].Path) })
}
