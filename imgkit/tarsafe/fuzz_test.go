package tarsafe

import (
	"archive/tar"
	"errors"
	"path"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/testkit"
)

// inRoot reports whether p is what Entry promises: "" or a clean relative
// path that stays below the root.
func inRoot(p string) bool {
	return p == "" || path.Clean(p) == p && !path.IsAbs(p) && p != ".." && !strings.HasPrefix(p, "../")
}

// FuzzClassify: an entry Classify accepts names a path that stays below
// the root, a hardlink a target below it (not the root itself), a whiteout
// a path in the directory of its marker; a file's size is within the
// limit, and devices come only when allowed. CheckPlace, run against the
// tree that the entries accepted before it make, accepts an entry only
// when no existing parent is a symlink or other non-directory and a
// hardlink's target exists and is not a directory. Refusals are *Error
// values naming the entry, one line, of the two classes. CleanName is
// idempotent.
func FuzzClassify(f *testing.F) {
	for _, fx := range testkit.FixtureTars(f) {
		for _, h := range testkit.TarHeaders(fx.Data) {
			f.Add(h.Name, h.Linkname, h.Typeflag, h.Size, false)
		}
	}
	for _, h := range []*tar.Header{
		hdr(tar.TypeReg, "../etc/passwd", ""), hdr(tar.TypeLink, "x", "/../y"), hdr(tar.TypeReg, "a/.wh...", ""),
		hdr(tar.TypeReg, ".wh..wh..opq", ""), hdr(tar.TypeChar, "dev/null", ""), hdr(tar.TypeSymlink, "abs/x", "/etc"),
	} {
		f.Add(h.Name, h.Linkname, h.Typeflag, h.Size, true)
	}
	f.Fuzz(func(t *testing.T, name, link string, typ byte, size int64, devices bool) {
		h := &tar.Header{Name: name, Linkname: link, Typeflag: typ, Size: size}
		opts := Options{AllowDevices: devices, MaxSize: 1 << 20}
		e, err := Classify(h, opts)
		if clean, ok := CleanName(name); ok {
			if !inRoot(clean) {
				t.Fatalf("CleanName(%q) = %q, which leaves the root", name, clean)
			}
			if again, ok := CleanName(clean); !ok || again != clean {
				t.Fatalf("CleanName(%q) = %q, then %q", name, clean, again)
			}
		}
		if err != nil {
			checkRefusal(t, h, err)
			return
		}
		checkAccepted(t, h, e, opts)
		// The same entry in a tree holding each kind of thing on its
		// path: the entry's parents and, for a hardlink, its target.
		for _, k := range []Kind{Dir, Regular, Symlink, Fifo} {
			link := ""
			if e.Kind == Hardlink {
				link = e.Link
			}
			v := mapView{"": Dir}
			for _, p := range []string{path.Dir(e.Path), link} {
				for p != "." && p != "" {
					v[p] = Dir
					p = path.Dir(p)
				}
			}
			leaf := path.Dir(e.Path)
			if e.Kind == Opaque {
				leaf = e.Path
			}
			if leaf != "." && leaf != "" {
				v[leaf] = k
			}
			if link != "" {
				v[link] = k
			}
			err := CheckPlace(e, v)
			if err != nil {
				checkRefusal(t, h, err)
			}
			parentOK := k == Dir || leaf == "." || leaf == "" || e.Kind == Ignored || e.Path == ""
			linkOK := e.Kind != Hardlink || k != Dir
			if (err == nil) != (parentOK && linkOK) {
				t.Fatalf("%q (%s) with %s on its path: CheckPlace says %v", name, e.Kind, k, err)
			}
		}
	})
}

func checkAccepted(t *testing.T, h *tar.Header, e Entry, opts Options) {
	t.Helper()
	if !inRoot(e.Path) || !inRoot(e.Link) && e.Kind != Symlink {
		t.Fatalf("%q -> %q accepted as %s %q -> %q, outside the root", h.Name, h.Linkname, e.Kind, e.Path, e.Link)
	}
	clean, _ := CleanName(h.Name)
	switch e.Kind {
	case Whiteout:
		if e.Path == "" || path.Dir(e.Path) != path.Dir(clean) {
			t.Fatalf("whiteout %q hides %q, outside its directory", h.Name, e.Path)
		}
	case Opaque:
		if dir := path.Dir(clean); e.Path != dir && !(dir == "." && e.Path == "") {
			t.Fatalf("opaque marker %q makes %q opaque, not its directory", h.Name, e.Path)
		}
	case Hardlink:
		if e.Link == "" {
			t.Fatalf("hardlink %q to the root accepted", h.Name)
		}
	case Regular:
		if h.Size < 0 || h.Size > opts.MaxSize {
			t.Fatalf("file %q of %d bytes accepted", h.Name, h.Size)
		}
	case Char, Block:
		if !opts.AllowDevices {
			t.Fatalf("device %q accepted without AllowDevices", h.Name)
		}
	case Symlink:
		if e.Link != h.Linkname || e.Link == "" {
			t.Fatalf("symlink %q -> %q kept as -> %q", h.Name, h.Linkname, e.Link)
		}
	}
	if e.Path == "" && e.Kind != Dir && e.Kind != Ignored && e.Kind != Opaque {
		t.Fatalf("%q accepted as a %s at the root", h.Name, e.Kind)
	}
}

func checkRefusal(t *testing.T, h *tar.Header, err error) {
	t.Helper()
	testkit.CheckError(t, err, errdefs.ErrUnsafeEntry, errdefs.ErrInvalidInput)
	var te *Error
	if !errors.As(err, &te) || te.Name != h.Name {
		t.Fatalf("the refusal of %q does not name it: %v", h.Name, err)
	}
}
