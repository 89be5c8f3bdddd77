package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/rootfs"
	"dockertools.dev/imgkit/tarsafe"
	"dockertools.dev/testkit"
)

// FuzzFlatten: --flatten and rootfs.Unpack (--unpack, build-image) apply
// layers by the same rules, one in memory and one on disk, so for any two
// layers they accept or refuse together, refusing with one line of the
// tar rules' classes; and what they accept gives the same tree: the same
// paths, each of the same type, permission bits, owner, content, link
// target. The flattened tar names each path once, below the root, in
// order, and holds no whiteout.
func FuzzFlatten(f *testing.F) {
	testkit.AddLayerPairs(f)
	f.Fuzz(func(t *testing.T, lower, upper []byte) {
		a, err := archive.Open(testkit.LayerImage(t, lower, upper), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		img := a.Images[0]
		// A few bytes of a sparse file's map make terabytes.
		opts := tarsafe.Options{Expanded: errdefs.Bound{Max: 64 << 20, Flag: "fuzz"}}
		var out bytes.Buffer
		o := &cli.IO{Stdout: io.Discard, Stderr: io.Discard, Tool: "tar-merge"}
		ferr := flatten(context.Background(), o, a, img, &out, opts)
		root := filepath.Join(t.TempDir(), "root")
		if err := os.Mkdir(root, 0o700); err != nil {
			t.Fatal(err)
		}
		// Directories a layer implies are made with the umask applied.
		umask := unix.Umask(0o022)
		snap, uerr := rootfs.Unpack(context.Background(), img, root, rootfs.UnpackOptions{Tarsafe: opts})
		unix.Umask(umask)
		for _, err := range []error{ferr, uerr} {
			if err != nil {
				testkit.CheckError(t, err, errdefs.ErrUnsafeEntry, errdefs.ErrInvalidInput, errdefs.ErrTooLarge)
			}
		}
		if (ferr == nil) != (uerr == nil) {
			t.Fatalf("--flatten says %v\nUnpack says %v", ferr, uerr)
		}
		if ferr != nil {
			return
		}
		flat, unpacked := flattenedTree(t, out.Bytes()), unpackedTree(t, root, snap)
		if diff := treeDiff(flat, unpacked); diff != "" {
			t.Fatalf("--flatten and Unpack make different trees (- flatten, + Unpack):\n%s", diff)
		}
	})
}

// flattenedTree describes each path of a flattened tar (see describe),
// checking names and order on the way.
func flattenedTree(t *testing.T, data []byte) map[string]string {
	t.Helper()
	tree := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	prev := ""
	for i := 0; ; i++ {
		h, err := tr.Next()
		if err == io.EOF {
			return tree
		}
		if err != nil {
			t.Fatalf("the flattened tar does not read: %v", err)
		}
		p, ok := strings.CutPrefix(h.Name, "./")
		p = strings.TrimSuffix(p, "/")
		if clean, _ := tarsafe.CleanName(p); !ok || clean != p || strings.HasPrefix(path.Base(p), tarsafe.WhiteoutPrefix) {
			t.Fatalf("the flattened tar has a member named %q", h.Name)
		}
		if i == 0 && p != "" || i > 0 && !sortedBefore(prev, p) {
			t.Fatalf("member %q comes after %q", h.Name, "./"+prev)
		}
		prev = p
		var kind byte
		var mode, extra string
		switch h.Typeflag {
		case tar.TypeReg:
			sum := sha256.New()
			if _, err := io.Copy(sum, tr); err != nil {
				t.Fatal(err)
			}
			kind, extra = 'f', hex.EncodeToString(sum.Sum(nil))[:12]
		case tar.TypeLink:
			target, ok := tree[strings.TrimPrefix(h.Linkname, "./")]
			if !ok {
				t.Fatalf("hardlink %q to %q, no earlier member", h.Name, h.Linkname)
			}
			tree[p] = target
			continue
		case tar.TypeDir:
			kind = 'd'
		case tar.TypeSymlink:
			kind, mode, extra = 'l', "-", "-> "+h.Linkname
		case tar.TypeFifo:
			kind = 'p'
		default:
			t.Fatalf("member %q of type %q", h.Name, h.Typeflag)
		}
		if mode == "" {
			mode = fmt.Sprintf("%04o", h.Mode&0o7777)
		}
		tree[p] = describe(kind, mode, h.Uid, h.Gid, extra)
	}
}

// sortedBefore reports whether a comes before b in the output's order:
// each directory before its entries, names in byte order (GNU tar's
// --sort=name).
func sortedBefore(a, b string) bool {
	return strings.ReplaceAll(a, "/", "\x00") < strings.ReplaceAll(b, "/", "\x00")
}

// unpackedTree describes each path of an unpacked directory, from its
// snapshot (owners as the layers asked) and its files' content.
func unpackedTree(t *testing.T, root string, snap *rootfs.Snapshot) map[string]string {
	t.Helper()
	tree := map[string]string{}
	var walk func(p string)
	walk = func(p string) {
		r := snap.Lookup(p)
		mode, extra := fmt.Sprintf("%04o", r.Mode), ""
		var kind byte
		switch r.Type {
		case unix.S_IFREG:
			data, err := os.ReadFile(filepath.Join(root, p))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			kind, extra = 'f', hex.EncodeToString(sum[:])[:12]
		case unix.S_IFDIR:
			kind = 'd'
		case unix.S_IFLNK:
			kind, mode, extra = 'l', "-", "-> "+r.Link
		case unix.S_IFIFO:
			kind = 'p'
		default:
			kind = '?'
		}
		tree[p] = describe(kind, mode, int(r.WantUid), int(r.WantGid), extra)
		for _, name := range snap.Children(p) {
			walk(strings.TrimPrefix(p+"/"+name, "/"))
		}
	}
	walk("")
	return tree
}

func describe(kind byte, mode string, uid, gid int, extra string) string {
	return fmt.Sprintf("%c %s %d:%d %s", kind, mode, uid, gid, extra)
}

// treeDiff lists the paths whose descriptions differ, sorted.
func treeDiff(a, b map[string]string) string {
	var lines []string
	for p, d := range a {
		if b[p] != d {
			lines = append(lines, fmt.Sprintf("- %q %s", p, d))
			if e, ok := b[p]; ok {
				lines = append(lines, fmt.Sprintf("+ %q %s", p, e))
			}
		}
	}
	for p, e := range b {
		if _, ok := a[p]; !ok {
			lines = append(lines, fmt.Sprintf("+ %q %s", p, e))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
