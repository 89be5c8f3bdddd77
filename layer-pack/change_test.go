package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/rootfs"
	"dockertools.dev/imgkit/storefs"
)

// TestChangedBetweenMeasureAndWrite: a store that changes after a layer
// was measured fails with ErrChanged naming the file (or the layer), never
// a layer that disagrees with its announced size. Both ways of writing a
// measured layer are checked: from the entries recorded while measuring
// (the file is named), and by walking again when the layer was too big
// to record (a change shows as a layer whose size no longer adds up). A
// file that appears after its directory was listed is not in the layer,
// as with tar; changes that the block and record padding absorb would give
// a consistent layer, so the changes here are larger.
func TestChangedBetweenMeasureAndWrite(t *testing.T) {
	const grewOrAppeared = "appeared or grew since the layer was measured"
	const shrankOrVanished = "vanished or shrank since the layer was measured"
	for _, c := range []struct {
		name         string
		change       func(dir string) error
		cached, walk string // "" when the layer is written without error
	}{
		{"FileGrew", func(d string) error { return os.WriteFile(filepath.Join(d, "b"), make([]byte, 40000), 0o644) },
			`"/store/aaa-x/b": size changed from 20000 to 40000 bytes`, grewOrAppeared},
		{"FileAppeared", func(d string) error { return os.WriteFile(filepath.Join(d, "a0"), make([]byte, 20000), 0o644) },
			"", grewOrAppeared},
		{"FileShrank", func(d string) error { return os.WriteFile(filepath.Join(d, "b"), nil, 0o644) },
			`"/store/aaa-x/b": size changed from 20000 to 0 bytes`, shrankOrVanished},
		{"FileVanished", func(d string) error { return os.Remove(filepath.Join(d, "b")) },
			`"/store/aaa-x/b" vanished while packing`, shrankOrVanished},
		{"FileReplaced", func(d string) error { return os.Rename(filepath.Join(d, "c"), filepath.Join(d, "b")) },
			`"/store/aaa-x/b" was replaced while packing`, shrankOrVanished},
		{"DirectoryVanished", func(d string) error { return os.RemoveAll(d) },
			`"/store/aaa-x" vanished while packing`, `store path "/store/aaa-x": not found`},
	} {
		for _, mode := range []struct {
			name   string
			budget int
			want   string
		}{{"Cached", 0, c.cached}, {"Walked", 1, c.walk}} {
			t.Run(c.name+"/"+mode.name, func(t *testing.T) {
				root, dir := storeOfThree(t, func(string) []byte { return make([]byte, 20000) }, 0o644)
				l := storeLayer(&storeOptions{storeDir: "/store", root: root}, []string{"/store/aaa-x"})
				l.budget = mode.budget
				size, err := l.measure(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if (l.cache != nil) != (mode.budget == 0) {
					t.Fatalf("cached = %v with budget %d", l.cache != nil, mode.budget)
				}
				if err := c.change(dir); err != nil {
					t.Fatal(err)
				}
				p := startPipeline(layerstream.NewWriter(io.Discard), false)
				err = p.begin(size)
				if err == nil {
					err = l.emit(context.Background(), p, size)
				}
				if err == nil {
					err = p.end(layerstream.LayerInfo{}, nil)
				}
				err = p.finish(err)
				switch {
				case mode.want == "" && err != nil:
					t.Fatalf("err = %v, want a consistent layer", err)
				case mode.want == "":
				case !errors.Is(err, errdefs.ErrChanged) && !errors.Is(err, errdefs.ErrNotFound):
					t.Fatalf("err = %v, want ErrChanged or ErrNotFound", err)
				case !strings.Contains(err.Error(), mode.want):
					t.Errorf("err = %q, want it to mention %q", err, mode.want)
				}
			})
		}
	}
}

// TestCopyFileChecksIdentity: copyFile refuses a file that is no longer
// the one examined: other size, other inode, now a symlink, gone, or below
// a directory that is now a symlink.
func TestCopyFileChecksIdentity(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"f", "other", "elsewhere/f"} {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"link": "f", "linkdir": "elsewhere"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(dir, "f"), &st); err != nil {
		t.Fatal(err)
	}
	examined := func(rel string, size int64) *entry {
		e := &entry{rel: rel, ino: st.Ino, dev: uint64(st.Dev)}
		e.hdr.Name, e.hdr.Size = "/"+rel, size
		return e
	}
	base, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(base)
	for _, c := range []struct {
		name string
		e    *entry
		want string
	}{
		{"SizeChanged", examined("f", 4), `"/f": size changed from 4 to 5 bytes`},
		{"Replaced", examined("other", 5), `"/other" was replaced while packing`},
		{"NowASymlink", examined("link", 5), `"/link" became a symlink while packing`},
		{"Vanished", examined("gone", 5), `"/gone" vanished while packing`},
		{"DirectoryNowASymlink", examined("linkdir/f", 5), `"/linkdir" became a symlink while packing`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := startPipeline(layerstream.NewWriter(io.Discard), false)
			op := storefs.NewOpener(base)
			defer op.Close()
			err := p.finish(copyFile(p, op, c.e))
			if !errors.Is(err, errdefs.ErrChanged) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want ErrChanged mentioning %q", err, c.want)
			}
		})
	}
}

// TestMemoryDoesNotGrowWithData streams 128 MiB (a sparse file)
// and thousands of small files: what is allocated stays far below the data
// size, because file data only ever passes through the fixed buffer pool.
func TestMemoryDoesNotGrowWithData(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 128 MiB")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "store", "aaa-big")
	if err := os.MkdirAll(filepath.Join(dir, "many"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	const big = 128 << 20
	if err := f.Truncate(big); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for i := range 3000 {
		if err := os.WriteFile(filepath.Join(dir, "many", strings.Repeat("f", i%50+1)+"-"+string(rune('a'+i%26))+itoa(i)), []byte("small file"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	layers := []layer{storeLayer(&storeOptions{storeDir: "/store", root: root}, []string{"/store/aaa-big"})}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	o := &cli.IO{Stdout: io.Discard, Stderr: io.Discard}
	if err := pack(context.Background(), o, layers, io.Discard); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d MiB to stream %d MiB", allocated>>20, big>>20)
	if allocated > 32<<20 {
		t.Errorf("allocated %d MiB to stream %d MiB: allocation grows with the data", allocated>>20, big>>20)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// TestChangesSpoolLeavesNothing: the --changes layer is spooled to a file
// in $TMPDIR that is unlinked as soon as it is made, so nothing is left
// there when the layer is written, nor when the run stops between measuring
// and writing it (an interrupt, a failed consumer, a reader gone).
func TestChangesSpoolLeavesNothing(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), make([]byte, 30000), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, write := range []bool{true, false} {
		l := &changesLayer{dir: dir, opts: rootfs.LayerOptions{Mtime: rootfs.DefaultMtime}}
		size, err := l.measure(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Fatalf("after measuring, $TMPDIR holds %v", left)
		}
		if !write {
			l.spool.Close()
			continue
		}
		var out bytes.Buffer
		p := startPipeline(layerstream.NewWriter(&out), false)
		err = p.begin(size)
		if err == nil {
			err = l.emit(context.Background(), p, size)
		}
		if err == nil {
			err = p.end(layerstream.LayerInfo{}, nil)
		}
		if err = p.finish(err); err != nil {
			t.Fatal(err)
		}
		if got := p.infos[0].Size; got != size || size < 30000 {
			t.Errorf("wrote a layer of %d bytes, measured %d", got, size)
		}
	}
}

// storeOfThree makes a store of one path, /store/aaa-x, holding the files
// a, b and c, each with data(name) and perm.
func storeOfThree(t *testing.T, data func(name string) []byte, perm os.FileMode) (root, dir string) {
	t.Helper()
	root = t.TempDir()
	dir = filepath.Join(root, "store", "aaa-x")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a", "b", "c"} {
		if err := os.WriteFile(filepath.Join(dir, f), data(f), perm); err != nil {
			t.Fatal(err)
		}
	}
	return root, dir
}
