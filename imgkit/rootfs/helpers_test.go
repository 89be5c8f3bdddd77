package rootfs

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/testkit"
)

// spec joins mktar spec lines into one layer.
func spec(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// layerFile writes a layer tar from an mktar spec.
func layerFile(t *testing.T, dir, specText string) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "layer*.tar")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testkit.MakeTar(strings.NewReader(specText), f, testkit.TarOptions{}); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// openImage writes an image archive of the layer files and opens it.
func openImage(t *testing.T, dir string, layers []string) *archive.Image {
	t.Helper()
	f, err := os.CreateTemp(dir, "image*.tar")
	if err != nil {
		t.Fatal(err)
	}
	if err := testkit.MakeImage(f, layers, testkit.ImageOptions{Tags: []string{"test:latest"}}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	a, err := archive.Open(f.Name(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a.Images[0]
}

// imageOf builds an image from mktar specs.
func imageOf(t *testing.T, specs ...string) *archive.Image {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for _, s := range specs {
		files = append(files, layerFile(t, dir, s))
	}
	return openImage(t, dir, files)
}

// unpackInto unpacks img into a new directory.
func unpackInto(t *testing.T, img *archive.Image) (string, *Snapshot) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "root")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	snap, err := Unpack(context.Background(), img, dir, UnpackOptions{})
	if err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	return dir, snap
}

// listTree prints a tree one line per path, sorted, without times:
// TYPE MODE UID:GID SIZE PATH [-> LINK] [content].
func listTree(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		typ := map[uint32]string{unix.S_IFDIR: "d", unix.S_IFREG: "f", unix.S_IFLNK: "l", unix.S_IFIFO: "p", unix.S_IFCHR: "c"}[uint32(st.Mode)&unix.S_IFMT]
		line := fmt.Sprintf("%s %04o %d:%d %s", typ, st.Mode&0o7777, st.Uid, st.Gid, rel)
		switch typ {
		case "l":
			link, _ := os.Readlink(p)
			line += " -> " + link
		case "f":
			b, _ := os.ReadFile(p)
			line += fmt.Sprintf(" %q", b)
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// listLayer prints a layer tar as testkit's tarls does.
func listLayer(t *testing.T, layer []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := testkit.ListTar(bytes.NewReader(layer), &out, testkit.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the case gives files owners other than the caller's")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func diffText(want, got string) string {
	return "want:\n" + want + "got:\n" + got
}
