package tarsafe

import (
	"archive/tar"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// mapView is a View backed by a map of clean paths.
type mapView map[string]Kind

func (m mapView) Lookup(p string) (Kind, bool) {
	k, ok := m[p]
	return k, ok
}

// lower is what exists before the entry under test.
var lower = mapView{
	"":           Dir,
	"etc":        Dir,
	"etc/passwd": Regular,
	"abs":        Symlink, // abs -> /etc
	"rel":        Symlink, // rel -> ../../..
	"file":       Regular,
}

func hdr(typ byte, name, link string) *tar.Header {
	return &tar.Header{Typeflag: typ, Name: name, Linkname: link, Mode: 0o644}
}

func TestRefusedEntries(t *testing.T) {
	for _, tc := range []struct {
		name string
		hdr  *tar.Header
		opts Options
		want error
		msg  string
	}{
		{"DotDotEscape", hdr(tar.TypeReg, "../etc/passwd", ""), Options{}, errdefs.ErrUnsafeEntry, "leaves the root"},
		{"DotDotInsideThenOut", hdr(tar.TypeReg, "a/../../b", ""), Options{}, errdefs.ErrUnsafeEntry, "leaves the root"},
		{"AbsoluteDotDot", hdr(tar.TypeReg, "/../etc/passwd", ""), Options{}, errdefs.ErrUnsafeEntry, "leaves the root"},
		{"SymlinkAbsoluteAsParent", hdr(tar.TypeReg, "abs/passwd", ""), Options{}, errdefs.ErrUnsafeEntry, `parent "abs" is a symlink`},
		{"SymlinkRelativeAsParent", hdr(tar.TypeReg, "rel/tmp/x", ""), Options{}, errdefs.ErrUnsafeEntry, `parent "rel" is a symlink`},
		{"SymlinkAsParentOfDir", hdr(tar.TypeDir, "abs/d/", ""), Options{}, errdefs.ErrUnsafeEntry, `parent "abs" is a symlink`},
		{"WhiteoutThroughSymlink", hdr(tar.TypeReg, "abs/.wh.passwd", ""), Options{}, errdefs.ErrUnsafeEntry, `parent "abs" is a symlink`},
		{"OpaqueThroughSymlink", hdr(tar.TypeReg, "abs/.wh..wh..opq", ""), Options{}, errdefs.ErrUnsafeEntry, `parent "abs" is a symlink`},
		{"HardlinkOutside", hdr(tar.TypeLink, "x", "../../etc/shadow"), Options{}, errdefs.ErrUnsafeEntry, "outside the root"},
		{"HardlinkNotYetSeen", hdr(tar.TypeLink, "x", "etc/shadow"), Options{}, errdefs.ErrUnsafeEntry, "does not exist"},
		{"HardlinkThroughSymlink", hdr(tar.TypeLink, "x", "abs/passwd"), Options{}, errdefs.ErrUnsafeEntry, "does not exist"},
		{"HardlinkToDirectory", hdr(tar.TypeLink, "x", "etc"), Options{}, errdefs.ErrUnsafeEntry, "directory"},
		{"HardlinkToRoot", hdr(tar.TypeLink, "x", "/"), Options{}, errdefs.ErrUnsafeEntry, "root"},
		// tar-merge --unpack removed the lower file, then failed to link
		// it to itself with a message naming paths on disk.
		{"HardlinkToItself", hdr(tar.TypeLink, "etc/passwd", "/etc/./passwd"), Options{}, errdefs.ErrInvalidInput, "hardlink to itself"},
		{"WhiteoutDotDot", hdr(tar.TypeReg, "etc/.wh...", ""), Options{}, errdefs.ErrUnsafeEntry, `names "..", outside its directory`},
		{"WhiteoutOwnDirectory", hdr(tar.TypeReg, "etc/.wh..", ""), Options{}, errdefs.ErrUnsafeEntry, `names ".", outside its directory`},
		{"WhiteoutEmpty", hdr(tar.TypeReg, "etc/.wh.", ""), Options{}, errdefs.ErrUnsafeEntry, "outside its directory"},
		{"WhiteoutRootDot", hdr(tar.TypeReg, ".wh..", ""), Options{}, errdefs.ErrUnsafeEntry, "outside its directory"},
		// A whiteout name as an implied parent directory would create a
		// directory named like a whiteout.
		{"WhiteoutDotDotAsParent", hdr(tar.TypeReg, ".wh.../x", ""), Options{}, errdefs.ErrUnsafeEntry, `its parent ".wh..." is named like a whiteout`},
		{"WhiteoutAsParent", hdr(tar.TypeReg, "ok/.wh.file/x", ""), Options{}, errdefs.ErrUnsafeEntry, `its parent "ok/.wh.file" is named like a whiteout`},
		{"OpaqueAsParent", hdr(tar.TypeReg, "d/.wh..wh..opq/x", ""), Options{}, errdefs.ErrUnsafeEntry, `its parent "d/.wh..wh..opq" is named like a whiteout`},
		{"WhiteoutAsParentOfWhiteout", hdr(tar.TypeReg, ".wh.a/.wh.b", ""), Options{}, errdefs.ErrUnsafeEntry, `its parent ".wh.a" is named like a whiteout`},
		{"WhiteoutAsParentOfDir", hdr(tar.TypeDir, "etc/.wh.x/y/", ""), Options{}, errdefs.ErrUnsafeEntry, `its parent "etc/.wh.x" is named like a whiteout`},
		{"CharDevice", &tar.Header{Typeflag: tar.TypeChar, Name: "dev/null", Devmajor: 1, Devminor: 3}, Options{}, errdefs.ErrUnsafeEntry, "character device 1:3"},
		{"BlockDevice", &tar.Header{Typeflag: tar.TypeBlock, Name: "dev/sda", Devmajor: 8}, Options{}, errdefs.ErrUnsafeEntry, "block device 8:0"},
		{"AbsurdSize", &tar.Header{Typeflag: tar.TypeReg, Name: "big", Size: 1 << 50}, Options{}, errdefs.ErrInvalidInput, "absurd"},
		{"SizeBeyondLayer", &tar.Header{Typeflag: tar.TypeReg, Name: "big", Size: 4096}, Options{MaxSize: 1024}, errdefs.ErrInvalidInput, "absurd"},
		{"NegativeSize", &tar.Header{Typeflag: tar.TypeReg, Name: "neg", Size: -1}, Options{}, errdefs.ErrInvalidInput, "absurd"},
		{"UnknownType", hdr('V', "volume", ""), Options{}, errdefs.ErrUnsafeEntry, "unknown type"},
		{"ContiguousType", hdr(tar.TypeCont, "cont", ""), Options{}, errdefs.ErrUnsafeEntry, "unknown type"},
		{"EmptySymlink", hdr(tar.TypeSymlink, "s", ""), Options{}, errdefs.ErrInvalidInput, "empty target"},
		{"RootAsFile", hdr(tar.TypeReg, "./", ""), Options{}, errdefs.ErrInvalidInput, "root"},
		{"ParentIsFile", hdr(tar.TypeReg, "file/x", ""), Options{}, errdefs.ErrInvalidInput, "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Classify(tc.hdr, tc.opts)
			if err == nil {
				err = CheckPlace(e, lower)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var te *Error
			if !errors.As(err, &te) || te.Name != tc.hdr.Name {
				t.Fatalf("the error does not name the entry: %v", err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("%q does not say %q", err, tc.msg)
			}
		})
	}
}

func TestAcceptedEntries(t *testing.T) {
	for _, tc := range []struct {
		name string
		hdr  *tar.Header
		opts Options
		kind Kind
		path string
		link string
	}{
		{"AbsoluteName", hdr(tar.TypeReg, "/nix/store/x", ""), Options{}, Regular, "nix/store/x", ""},
		{"DotSlash", hdr(tar.TypeDir, "./etc/", ""), Options{}, Dir, "etc", ""},
		{"DotDotInside", hdr(tar.TypeReg, "etc/../etc/x", ""), Options{}, Regular, "etc/x", ""},
		{"Root", hdr(tar.TypeDir, "./", ""), Options{}, Dir, "", ""},
		{"AbsoluteSymlinkKept", hdr(tar.TypeSymlink, "bin/sh", "/nix/store/b/bin/sh"), Options{}, Symlink, "bin/sh", "/nix/store/b/bin/sh"},
		{"EscapingSymlinkKept", hdr(tar.TypeSymlink, "up", "../../.."), Options{}, Symlink, "up", "../../.."},
		{"HardlinkLower", hdr(tar.TypeLink, "etc/pw", "/etc/passwd"), Options{}, Hardlink, "etc/pw", "etc/passwd"},
		{"Whiteout", hdr(tar.TypeReg, "etc/.wh.passwd", ""), Options{}, Whiteout, "etc/passwd", ""},
		{"WhiteoutOfSymlink", hdr(tar.TypeReg, ".wh.abs", ""), Options{}, Whiteout, "abs", ""},
		{"Opaque", hdr(tar.TypeReg, "etc/.wh..wh..opq", ""), Options{}, Opaque, "etc", ""},
		{"OpaqueRoot", hdr(tar.TypeReg, ".wh..wh..opq", ""), Options{}, Opaque, "", ""},
		{"AufsMeta", hdr(tar.TypeDir, ".wh..wh.plnk/", ""), Options{}, Ignored, "", ""},
		// What is inside an aufs metadata directory is skipped with it,
		// as Docker skips it.
		{"AufsMetaContent", hdr(tar.TypeReg, ".wh..wh.plnk/123.456", ""), Options{}, Ignored, "", ""},
		{"GlobalHeader", hdr(tar.TypeXGlobalHeader, "pax_global_header", ""), Options{}, Ignored, "", ""},
		{"DeviceAllowed", &tar.Header{Typeflag: tar.TypeChar, Name: "dev/null", Devmajor: 1, Devminor: 3}, Options{AllowDevices: true}, Char, "dev/null", ""},
		{"Fifo", hdr(tar.TypeFifo, "run/fifo", ""), Options{}, Fifo, "run/fifo", ""},
		{"ParentAbsent", hdr(tar.TypeReg, "new/dir/x", ""), Options{}, Regular, "new/dir/x", ""},
		{"ReplaceSymlinkItself", hdr(tar.TypeDir, "abs/", ""), Options{}, Dir, "abs", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Classify(tc.hdr, tc.opts)
			if err == nil {
				err = CheckPlace(e, lower)
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind != tc.kind || e.Path != tc.path || e.Link != tc.link {
				t.Fatalf("got %v %q %q, want %v %q %q", e.Kind, e.Path, e.Link, tc.kind, tc.path, tc.link)
			}
		})
	}
}

// TestLongNamesCutInErrors: a refused entry with a 70 KB name gives an
// error line of a few hundred bytes that still says how long the name was.
func TestLongNamesCutInErrors(t *testing.T) {
	long := strings.Repeat("a", 70000)
	for _, tc := range []struct {
		name string
		hdr  *tar.Header
	}{
		{"LeavesTheRoot", hdr(tar.TypeReg, "../"+long, "")},
		{"HardlinkOutside", hdr(tar.TypeLink, long, "../"+long)},
		{"ParentSymlink", hdr(tar.TypeReg, "abs/"+long, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Classify(tc.hdr, Options{})
			if err == nil {
				err = CheckPlace(e, lower)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if n := len(err.Error()); n > 3*errdefs.MaxQuoted {
				t.Errorf("a %d-byte error: %.300s…", n, err)
			}
			if !strings.Contains(err.Error(), "bytes)") {
				t.Errorf("the error does not give the name's length: %.300s", err)
			}
		})
	}
}

func TestDirView(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), nil, 0o644)
	os.Symlink("/etc", filepath.Join(root, "abs"))
	os.Symlink("etc", filepath.Join(root, "rel"))
	v := DirView(root)
	for p, want := range map[string]Kind{"": Dir, "etc": Dir, "etc/passwd": Regular, "abs": Symlink, "rel": Symlink} {
		if k, ok := v.Lookup(p); !ok || k != want {
			t.Errorf("Lookup(%q) = %v, %v; want %v", p, k, ok, want)
		}
	}
	for _, p := range []string{"rel/passwd", "abs/passwd", "etc/passwd/x", "missing"} {
		if k, ok := v.Lookup(p); ok {
			t.Errorf("Lookup(%q) = %v; want nothing (no symlink is followed)", p, k)
		}
	}
	e, _ := Classify(hdr(tar.TypeReg, "rel/x", ""), Options{})
	if err := CheckPlace(e, v); !errors.Is(err, errdefs.ErrUnsafeEntry) {
		t.Errorf("writing through a symlink on disk: %v", err)
	}
}
