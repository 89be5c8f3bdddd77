package rootfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarsafe"
)

var changesBase = spec(
	"d 0755 0:0 ./",
	"d 0755 0:0 ./etc",
	`f 0644 0:0 ./etc/a "a1"`,
	`f 0644 0:0 ./etc/b "b1"`,
	"d 0755 0:0 ./etc/sub",
	`f 0644 0:0 ./etc/sub/x "x1"`,
	"d 0755 0:0 ./bin",
	`f 0755 0:0 ./bin/sh "sh"`,
)

func write(t *testing.T, p, data string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(data), 0o644))
}

// TestChangesLayer: what a script does to an unpacked image becomes a
// layer with exactly its changes, and applying that layer on the image
// gives the tree the script left (the round trip).
func TestChangesLayer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(t *testing.T, root string)
		exclude []string
		want    string
	}{{
		name:   "nothing changed",
		change: func(t *testing.T, root string) {},
		want:   "",
	}, {
		name:   "new file",
		change: func(t *testing.T, root string) { write(t, root+"/new", "n") },
		want:   "d 0755 0:0 0 ./\nf 0644 0:0 1 ./new\n",
	}, {
		name: "file changed in place, even with its old mtime and size",
		change: func(t *testing.T, root string) {
			st, _ := os.Stat(root + "/etc/a")
			must(t, os.WriteFile(root+"/etc/a", []byte("A1"), 0o644))
			must(t, os.Chtimes(root+"/etc/a", st.ModTime(), st.ModTime()))
		},
		want: "f 0644 0:0 2 ./etc/a\n",
	}, {
		name:   "deleted file",
		change: func(t *testing.T, root string) { must(t, os.Remove(root+"/etc/b")) },
		want:   "d 0755 0:0 0 ./etc/\nf 0000 0:0 0 ./etc/.wh.b\n",
	}, {
		name:   "deleted directory",
		change: func(t *testing.T, root string) { must(t, os.RemoveAll(root+"/etc/sub")) },
		want:   "d 0755 0:0 0 ./etc/\nf 0000 0:0 0 ./etc/.wh.sub\n",
	}, {
		name: "directory emptied and refilled is opaque",
		change: func(t *testing.T, root string) {
			must(t, os.RemoveAll(root+"/etc"))
			write(t, root+"/etc/c", "c")
		},
		want: "d 0755 0:0 0 ./\nd 0755 0:0 0 ./etc/\nf 0000 0:0 0 ./etc/.wh..wh..opq\nf 0644 0:0 1 ./etc/c\n",
	}, {
		name: "mode and owner",
		change: func(t *testing.T, root string) {
			must(t, os.Chmod(root+"/bin/sh", os.ModeSetuid|0o711))
			if os.Geteuid() == 0 {
				must(t, os.Lchown(root+"/etc/a", 1000, 1000))
			} else {
				must(t, os.Chmod(root+"/etc/a", 0o600))
			}
		},
		want: map[bool]string{
			true:  "f 4711 0:0 2 ./bin/sh\nf 0644 1000:1000 2 ./etc/a\n",
			false: "f 4711 0:0 2 ./bin/sh\nf 0600 0:0 2 ./etc/a\n",
		}[os.Geteuid() == 0],
	}, {
		name: "file becomes a symlink, directory becomes a file",
		change: func(t *testing.T, root string) {
			must(t, os.Remove(root+"/etc/a"))
			must(t, os.Symlink("b", root+"/etc/a"))
			must(t, os.RemoveAll(root+"/etc/sub"))
			write(t, root+"/etc/sub", "now a file")
		},
		want: "d 0755 0:0 0 ./etc/\nl 0777 0:0 0 ./etc/a -> b\nf 0644 0:0 10 ./etc/sub\n",
	}, {
		name: "excluded mount points are left out",
		change: func(t *testing.T, root string) {
			must(t, os.MkdirAll(root+"/proc/self", 0o755))
			write(t, root+"/etc/new", "n")
		},
		exclude: []string{"proc"},
		want:    "d 0755 0:0 0 ./\nd 0755 0:0 0 ./etc/\nf 0644 0:0 1 ./etc/new\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			baseFile := layerFile(t, dir, changesBase)
			root, snap := unpackInto(t, openImage(t, dir, []string{baseFile}))
			tc.change(t, root)
			var layer bytes.Buffer
			err := WriteLayer(context.Background(), &layer, root, LayerOptions{Snapshot: snap, Mtime: DefaultMtime, Exclude: tc.exclude})
			must(t, err)
			if got := listLayer(t, layer.Bytes()); got != tc.want {
				t.Fatal(diffText(tc.want, got))
			}
			for _, x := range tc.exclude {
				must(t, os.RemoveAll(filepath.Join(root, x)))
			}
			upper := filepath.Join(dir, "upper.tar")
			must(t, os.WriteFile(upper, layer.Bytes(), 0o644))
			again, _ := unpackInto(t, openImage(t, dir, []string{baseFile, upper}))
			if want, got := listTree(t, root), listTree(t, again); want != got {
				t.Errorf("the base plus the layer is not the changed tree:\n%s", diffText(want, got))
			}
		})
	}
}

func TestChangesKeepWantedOwner(t *testing.T) {
	dir, _ := unpackInto(t, imageOf(t, spec(`f 0644 0:0 ./f "x"`)))
	// As an unprivileged user namespace sees it: the layer wanted 1000, the
	// file on disk is ours.
	snap, err := Take(dir, map[string][2]uint32{"f": {1000, 1000}})
	must(t, err)
	must(t, os.Chmod(dir+"/f", 0o600))
	var layer bytes.Buffer
	must(t, WriteLayer(context.Background(), &layer, dir, LayerOptions{Snapshot: snap}))
	if want, got := "f 0600 1000:1000 1 ./f\n", listLayer(t, layer.Bytes()); got != want {
		t.Error(diffText(want, got))
	}
}

// TestPureLayer: without a snapshot every entry is packed, owned as asked,
// hardlinks as separate files, sockets left out, then the store paths with
// their parent directories.
func TestPureLayer(t *testing.T) {
	top := t.TempDir()
	root := filepath.Join(top, "root")
	write(t, root+"/bin/hello", "hi")
	must(t, os.Link(root+"/bin/hello", root+"/bin/hello2"))
	must(t, os.Symlink("/nix/store/aaaa-x/bin/x", root+"/bin/x"))
	must(t, os.Chmod(root, 0o755))
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	must(t, err)
	defer unix.Close(sock)
	must(t, unix.Bind(sock, &unix.SockaddrUnix{Name: root + "/sock"}))
	store := filepath.Join(top, "store")
	write(t, store+"/nix/store/aaaa-x/bin/x", "xx")
	must(t, os.Symlink("x", store+"/nix/store/aaaa-x/bin/y"))
	var warned []string
	var layer bytes.Buffer
	err = WriteLayer(context.Background(), &layer, root, LayerOptions{
		ForceOwner: true, Uid: 1000, Gid: 100, Mtime: DefaultMtime,
		StorePaths: []string{"/nix/store/aaaa-x"}, StoreRoot: store,
		Warnf: func(f string, a ...any) { warned = append(warned, f) },
	})
	must(t, err)
	want := `d 0755 1000:100 0 ./
d 0755 1000:100 0 ./bin/
f 0644 1000:100 2 ./bin/hello
f 0644 1000:100 2 ./bin/hello2
l 0777 1000:100 0 ./bin/x -> /nix/store/aaaa-x/bin/x
d 0755 0:0 0 ./nix/
d 0755 0:0 0 ./nix/store/
d 0755 0:0 0 ./nix/store/aaaa-x/
d 0755 0:0 0 ./nix/store/aaaa-x/bin/
f 0644 0:0 2 ./nix/store/aaaa-x/bin/x
l 0777 0:0 0 ./nix/store/aaaa-x/bin/y -> x
`
	if got := listLayer(t, layer.Bytes()); got != want {
		t.Error(diffText(want, got))
	}
	if len(warned) != 1 {
		t.Errorf("warnings %q, want one about the socket", warned)
	}
	// Same input, same bytes.
	var again bytes.Buffer
	must(t, WriteLayer(context.Background(), &again, root, LayerOptions{
		ForceOwner: true, Uid: 1000, Gid: 100, Mtime: DefaultMtime,
		StorePaths: []string{"/nix/store/aaaa-x"}, StoreRoot: store,
	}))
	if !bytes.Equal(layer.Bytes(), again.Bytes()) {
		t.Error("two runs gave different bytes")
	}
}

func TestPureLayerErrors(t *testing.T) {
	top := t.TempDir()
	root := filepath.Join(top, "root")
	write(t, root+"/nix", "a file where the store's parent goes")
	for _, tc := range []struct {
		name string
		opts LayerOptions
		err  error
		msg  string
	}{
		{"missing store path", LayerOptions{StorePaths: []string{"/nix/store/zzzz-gone"}, StoreRoot: top}, errdefs.ErrNotFound, `"/nix/store/zzzz-gone"`},
		{"relative store path", LayerOptions{StorePaths: []string{"nix/store/x"}}, errdefs.ErrInvalidInput, "absolute"},
		{"store below a file", LayerOptions{StorePaths: []string{"/nix/store"}, StoreRoot: top}, errdefs.ErrInvalidInput, "not a directory"},
		{"exclude leaving the root", LayerOptions{Exclude: []string{"../x"}}, errdefs.ErrInvalidInput, "below the root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "store below a file" {
				write(t, top+"/nix/store/.keep", "")
			}
			err := WriteLayer(context.Background(), &bytes.Buffer{}, root, tc.opts)
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want %v containing %q", err, tc.err, tc.msg)
			}
		})
	}
}

// TestStoreReadInsideRoot: the store paths of a layer are read below their
// store directory, which is resolved inside StoreRoot as a chroot to it
// would resolve it; nothing outside StoreRoot (here a secret standing in
// for /etc) is read, whatever symlinks the store holds.
func TestStoreReadInsideRoot(t *testing.T) {
	for _, tc := range []struct {
		name  string
		links map[string]string // below StoreRoot → target ("OUT" is the outside directory)
		path  string
		err   error
		want  string // the store entries of the layer when err is nil
	}{
		{"StoreDirSymlinkOut", map[string]string{"nix/store": "OUT"}, "/nix/store/aaaa-x", errdefs.ErrNotFound, ""},
		{"StoreDirSymlinkDotDot", map[string]string{"nix/store": "../../outside"}, "/nix/store/aaaa-x", errdefs.ErrNotFound, ""},
		{"SymlinkInMiddle", map[string]string{"nix/store/aaaa-evil": "OUT/aaaa-x"}, "/nix/store/aaaa-evil/secret", errdefs.ErrNotFound, ""},
		{"StorePathSymlink", map[string]string{"nix/store/aaaa-evil": "OUT/aaaa-x"}, "/nix/store/aaaa-evil", nil,
			"l 0777 0:0 0 ./nix/store/aaaa-evil -> OUT/aaaa-x\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := t.TempDir()
			outside, store := filepath.Join(top, "outside"), filepath.Join(top, "root")
			write(t, outside+"/aaaa-x/secret", "s3cret")
			must(t, os.MkdirAll(store+"/nix/store", 0o755))
			for link, target := range tc.links {
				target = strings.Replace(target, "OUT", outside, 1)
				os.Remove(filepath.Join(store, link))
				must(t, os.Symlink(target, filepath.Join(store, link)))
			}
			dir := filepath.Join(top, "dir")
			must(t, os.Mkdir(dir, 0o755))
			var layer bytes.Buffer
			err := WriteLayer(context.Background(), &layer, dir, LayerOptions{StorePaths: []string{tc.path}, StoreRoot: store})
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if bytes.Contains(layer.Bytes(), []byte("s3cret")) {
				t.Error("the layer holds the secret from outside the root")
			}
			if err != nil {
				return
			}
			var got []string
			for _, line := range strings.SplitAfter(listLayer(t, layer.Bytes()), "\n") {
				if strings.HasPrefix(line, "l ") || strings.HasPrefix(line, "f ") {
					got = append(got, strings.Replace(line, outside, "OUT", 1))
				}
			}
			if strings.Join(got, "") != tc.want {
				t.Error(diffText(tc.want, strings.Join(got, "")))
			}
		})
	}
}

func TestMemberOrder(t *testing.T) {
	paths := []string{"a-b", "a/b", "a", "", "a/b/c", "a.b", "B"}
	want := []string{"", "B", "a", "a/b", "a/b/c", "a-b", "a.b"}
	for i := range paths {
		for j := range paths {
			pi, pj := indexOf(want, paths[i]), indexOf(want, paths[j])
			if got := memberLess(paths[i], paths[j]); got != (pi < pj) {
				t.Errorf("memberLess(%q, %q) = %v", paths[i], paths[j], got)
			}
		}
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestStorePaths(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layers []string
		want   string
	}{
		{"none", []string{spec(`f 0644 0:0 ./a "x"`)}, ""},
		{"added across layers", []string{
			spec("d 0755 0:0 /nix/", "d 0755 0:0 /nix/store/", "d 0555 0:0 /nix/store/aaaa-a/", `f 0444 0:0 /nix/store/aaaa-a/f "x"`),
			spec(`f 0444 0:0 /nix/store/bbbb-b "file path"`, "l 0777 0:0 /nix/store/cccc-c aaaa-a"),
		}, "/nix/store/aaaa-a /nix/store/bbbb-b /nix/store/cccc-c"},
		{"whiteout removes a lower path, not its own", []string{
			spec(`f 0444 0:0 /nix/store/aaaa-a "x"`, `f 0444 0:0 /nix/store/bbbb-b "x"`),
			spec(`f 0 0:0 ./nix/store/.wh.aaaa-a ""`, `f 0 0:0 ./nix/store/.wh.dddd-d ""`, `f 0444 0:0 ./nix/store/dddd-d "x"`),
		}, "/nix/store/bbbb-b /nix/store/dddd-d"},
		{"opaque store hides all lower paths", []string{
			spec(`f 0444 0:0 /nix/store/aaaa-a "x"`),
			spec("d 0755 0:0 ./nix/store/", `f 0 0:0 ./nix/store/.wh..wh..opq ""`, `f 0444 0:0 ./nix/store/eeee-e "x"`),
		}, "/nix/store/eeee-e"},
		{"whiteout of /nix hides the store", []string{
			spec(`f 0444 0:0 /nix/store/aaaa-a "x"`),
			spec(`f 0 0:0 ./.wh.nix ""`),
		}, ""},
		{"a file replacing /nix hides the store", []string{
			spec(`f 0444 0:0 /nix/store/aaaa-a "x"`),
			spec(`f 0644 0:0 ./nix "file"`),
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := StorePaths(context.Background(), imageOf(t, tc.layers...), "/nix/store", tarsafe.Options{})
			must(t, err)
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("got %q, want %q", s, tc.want)
			}
		})
	}
}

// TestWriteLayerNamesTheReplacedAncestor: a directory far above the one
// the walk opens, closed to keep descriptors bounded (storefs.DirPath)
// and replaced by a symlink meanwhile, is the one the error names: it
// named the directory being opened, which had not changed. The walk is
// changed when it meets the socket at the bottom (Warnf).
func TestWriteLayerNamesTheReplacedAncestor(t *testing.T) {
	work := t.TempDir()
	root := filepath.Join(work, "root")
	level := func(n int) string { return filepath.Join(root, strings.Repeat("d/", n-1)+"d") }
	deep := level(40)
	must(t, os.MkdirAll(deep, 0o755))
	must(t, os.Mkdir(filepath.Join(level(8), "z"), 0o755))
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	must(t, err)
	defer unix.Close(sock)
	must(t, unix.Bind(sock, &unix.SockaddrUnix{Name: filepath.Join(work, "s")}))
	must(t, os.Rename(filepath.Join(work, "s"), filepath.Join(deep, "s")))
	err = WriteLayer(context.Background(), io.Discard, root, LayerOptions{
		Mtime: DefaultMtime,
		Warnf: func(string, ...any) {
			// The walk's ninth level leaves the tree (the climb back
			// through its ".." fails), and the third becomes a symlink.
			must(t, os.Rename(level(9), filepath.Join(work, "away")))
			must(t, os.Rename(level(3), filepath.Join(work, "old")))
			must(t, os.Symlink("/", level(3)))
		},
	})
	if !errors.Is(err, errdefs.ErrChanged) || !strings.HasPrefix(err.Error(), `"/d/d/d": `) {
		t.Fatalf("err = %v, want /d/d/d named as changed", err)
	}
}
