package rootfs

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/testkit"
)

func TestUnpackAppliesLayersInOrder(t *testing.T) {
	base := spec(
		"d 0755 0:0 ./",
		"d 0755 0:0 ./etc",
		`f 0644 0:0 ./etc/a "a1"`,
		`f 0644 0:0 ./etc/b "b1"`,
		"d 0755 0:0 ./etc/sub",
		`f 0644 0:0 ./etc/sub/x "x1"`,
		`f 0644 0:0 ./order "a"`,
	)
	for _, tc := range []struct {
		name   string
		layers []string
		want   string
	}{{
		name:   "upper file wins",
		layers: []string{base, spec(`f 0600 0:0 ./order "b"`), spec(`f 0640 0:0 ./order "c"`)},
		want: `d 0755 0:0 .
d 0755 0:0 etc
d 0755 0:0 etc/sub
f 0640 0:0 order "c"
f 0644 0:0 etc/a "a1"
f 0644 0:0 etc/b "b1"
f 0644 0:0 etc/sub/x "x1"
`,
	}, {
		name:   "whiteout hides a lower file and a lower directory",
		layers: []string{base, spec(`f 0 0:0 ./etc/.wh.a ""`, `f 0 0:0 ./etc/.wh.sub ""`)},
		want: `d 0755 0:0 .
d 0755 0:0 etc
f 0644 0:0 etc/b "b1"
f 0644 0:0 order "a"
`,
	}, {
		name:   "whiteout leaves its own layer's entry",
		layers: []string{base, spec(`f 0644 0:0 ./etc/.wh.new ""`, `f 0644 0:0 ./etc/new "n"`)},
		want: `d 0755 0:0 .
d 0755 0:0 etc
d 0755 0:0 etc/sub
f 0644 0:0 etc/a "a1"
f 0644 0:0 etc/b "b1"
f 0644 0:0 etc/new "n"
f 0644 0:0 etc/sub/x "x1"
f 0644 0:0 order "a"
`,
	}, {
		name: "opaque directory keeps only its own layer's entries",
		layers: []string{base, spec(
			"d 0750 0:0 ./etc",
			`f 0 0:0 ./etc/.wh..wh..opq ""`,
			`f 0644 0:0 ./etc/new "n"`,
			`f 0644 0:0 ./etc/sub/y "y"`,
		)},
		want: `d 0750 0:0 etc
d 0755 0:0 .
d 0755 0:0 etc/sub
f 0644 0:0 etc/new "n"
f 0644 0:0 etc/sub/y "y"
f 0644 0:0 order "a"
`,
	}, {
		name:   "file replaces directory, directory replaces symlink",
		layers: []string{base, spec(`f 0644 0:0 ./etc "now a file"`, "l 0777 0:0 ./lnk /etc"), spec("d 0700 0:0 ./lnk", `f 0644 0:0 ./lnk/in "i"`)},
		want: `d 0700 0:0 lnk
d 0755 0:0 .
f 0644 0:0 etc "now a file"
f 0644 0:0 lnk/in "i"
f 0644 0:0 order "a"
`,
	}, {
		name:   "hardlink shares the file, read-only directory filled, modes with set-id bits",
		layers: []string{spec("d 0555 0:0 ./ro", `f 04755 0:0 ./ro/su "s"`, "h 04755 0:0 ./ro/su2 ./ro/su", "d 01777 0:0 ./tmp", "p 0600 0:0 ./fifo")},
		want: `d 0555 0:0 ro
d 0755 0:0 .
d 1777 0:0 tmp
f 4755 0:0 ro/su "s"
f 4755 0:0 ro/su2 "s"
p 0600 0:0 fifo
`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			dir, snap := unpackInto(t, imageOf(t, tc.layers...))
			if got := listTree(t, dir); got != tc.want {
				t.Error(diffText(tc.want, got))
			}
			if snap.Lookup("") == nil || !snap.Lookup("").IsDir() {
				t.Errorf("the snapshot has no root directory")
			}
		})
	}
}

func TestUnpackHardlinkIsOneFile(t *testing.T) {
	dir, snap := unpackInto(t, imageOf(t, spec(`f 0644 0:0 ./a "data"`, "h 0 0:0 ./b ./a")))
	a, b := snap.Lookup("a"), snap.Lookup("b")
	if a == nil || b == nil || a.Ino != b.Ino {
		t.Fatalf("a and b are not one inode: %+v %+v", a, b)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "b")); string(got) != "data" {
		t.Errorf("b holds %q", got)
	}
}

func TestUnpackOwners(t *testing.T) {
	needRoot(t)
	dir, snap := unpackInto(t, imageOf(t, spec("d 0755 1000:1000 ./home", `f 0600 1000:100 ./home/f "x"`, "l 0777 7:7 ./home/l f")))
	want := `d 0755 0:0 .
d 0755 1000:1000 home
f 0600 1000:100 home/f "x"
l 0777 7:7 home/l -> f
`
	if got := listTree(t, dir); got != want {
		t.Error(diffText(want, got))
	}
	if r := snap.Lookup("home/f"); r.WantUid != 1000 || r.WantGid != 100 {
		t.Errorf("wanted owner %d:%d, want 1000:100", r.WantUid, r.WantGid)
	}
}

// TestUnpackRefusesAttacks: entries that would write outside the root, or
// through a symlink, stop the unpacking and nothing lands outside.
func TestUnpackRefusesAttacks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layers []string
		err    error
		msg    string
	}{
		{"DotDotName", []string{spec(`f 0644 0:0 ../escaped "x"`)}, errdefs.ErrUnsafeEntry, "leaves the root"},
		// Symlinks point at ../../../outside, a directory beside the root.
		{"SymlinkParent", []string{spec("l 0777 0:0 ./evil ../../../outside", `f 0644 0:0 ./evil/escaped "x"`)}, errdefs.ErrUnsafeEntry, "is a symlink"},
		{"SymlinkParentInLaterLayer", []string{spec("l 0777 0:0 ./evil ../../../outside"), spec(`f 0644 0:0 ./evil/escaped "x"`)}, errdefs.ErrUnsafeEntry, "is a symlink"},
		{"HardlinkOutside", []string{spec("h 0 0:0 ./x ../../etc/passwd")}, errdefs.ErrUnsafeEntry, "outside the root"},
		{"HardlinkThroughSymlink", []string{spec("l 0777 0:0 ./lnk ../../../outside", "h 0 0:0 ./x ./lnk/escaped")}, errdefs.ErrUnsafeEntry, "does not exist"},
		{"HardlinkToDirectory", []string{spec("d 0755 0:0 ./d", "h 0 0:0 ./x ./d")}, errdefs.ErrUnsafeEntry, "directory"},
		{"Device", []string{spec("c 0666 0:0 ./dev/null 1:3")}, errdefs.ErrUnsafeEntry, "devices are refused"},
		{"WhiteoutDotDot", []string{spec(`f 0 0:0 ./.wh.. ""`)}, errdefs.ErrUnsafeEntry, "outside its directory"},
		{"WhiteoutAsParent", []string{spec(`f 0644 0:0 ./ok/.wh.file/x "x"`)}, errdefs.ErrUnsafeEntry, "named like a whiteout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := t.TempDir()
			outside := filepath.Join(top, "outside")
			must(t, os.Mkdir(outside, 0o755))
			dir := filepath.Join(top, "a", "b", "root")
			must(t, os.MkdirAll(dir, 0o755))
			img := imageOf(t, tc.layers...)
			_, err := Unpack(context.Background(), img, dir, UnpackOptions{})
			if err == nil {
				t.Fatal("Unpack succeeded")
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q, want %v containing %q", err, tc.err, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), "layer ") {
				t.Errorf("error %q does not name the layer", err)
			}
			if entries, _ := os.ReadDir(outside); len(entries) > 0 {
				t.Errorf("%d entries written outside the root", len(entries))
			}
			if _, err := os.Lstat(filepath.Join(top, "a", "b", "escaped")); err == nil {
				t.Errorf("a file escaped the root")
			}
		})
	}
}

// TestUnpackErrorCutsLongNames: a 70 KB entry name, longer than a path
// may be, gives a one-line error of a few hundred bytes, not 140 KB.
func TestUnpackErrorCutsLongNames(t *testing.T) {
	long := strings.Repeat("a", 70000)
	img := imageOf(t, spec(fmt.Sprintf(`f 0644 0:0 %s "x"`, long)))
	dir := filepath.Join(t.TempDir(), "root")
	must(t, os.Mkdir(dir, 0o755))
	_, err := Unpack(context.Background(), img, dir, UnpackOptions{})
	if err == nil {
		t.Fatal("Unpack succeeded")
	}
	if n := len(err.Error()); n > 1000 {
		t.Errorf("a %d-byte error: %.300s…", n, err)
	}
	if !strings.Contains(err.Error(), "…(70000 bytes)") || !strings.Contains(err.Error(), "longer than a path may be") {
		t.Errorf("the error lost the name's length or the cause: %.600s", err)
	}
}

func TestUnpackVerifiesDigests(t *testing.T) {
	dir := t.TempDir()
	l := layerFile(t, dir, spec(`f 0644 0:0 ./a "x"`))
	f, err := os.CreateTemp(dir, "img*.tar")
	must(t, err)
	must(t, testkit.MakeImage(f, []string{l}, testkit.ImageOptions{BadDiffID: 1}))
	f.Close()
	a, err := archive.Open(f.Name(), nil)
	must(t, err)
	defer a.Close()
	root := filepath.Join(dir, "root")
	must(t, os.Mkdir(root, 0o755))
	_, err = Unpack(context.Background(), a.Images[0], root, UnpackOptions{})
	if !errors.Is(err, errdefs.ErrDigestMismatch) {
		t.Errorf("error %v, want a digest mismatch", err)
	}
}

// TestUnpackImplicitParentsIgnoreUmask: a directory a layer names no entry
// for (etc of etc/passwd) is made 0755, as --flatten and umoci make it, whatever the
// umask or a default ACL of the root would give it; it was 0700 under
// umask 077 or under an ACL giving nothing to group and others (which new
// entries take instead of the umask), and layer-pack --changes
// --snapshot packed that mode when a script then changed the directory.
// Not parallel: the umask is the process's.
func TestUnpackImplicitParentsIgnoreUmask(t *testing.T) {
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	dir, _ := unpackInto(t, imageOf(t, spec(`f 0644 0:0 ./etc/ssl/passwd "x"`)))
	unix.Umask(0o022)
	// A default ACL (version 2) of rwx for the owner (USER_OBJ), nothing
	// for the group (GROUP_OBJ) and others (OTHER).
	acl := []byte{2, 0, 0, 0}
	for _, e := range [][2]byte{{0x01, 7}, {0x04, 0}, {0x20, 0}} {
		acl = append(acl, e[0], 0, e[1], 0, 0xff, 0xff, 0xff, 0xff)
	}
	if err := unix.Setxattr(dir, "system.posix_acl_default", acl, 0); err != nil {
		t.Skipf("no default ACL here: %v", err)
	}
	_, err := Unpack(context.Background(), imageOf(t, spec(`f 0644 0:0 ./var/log/f "y"`)), dir, UnpackOptions{})
	must(t, err)
	for _, p := range []string{"etc", "etc/ssl", "var", "var/log"} {
		st, err := os.Stat(filepath.Join(dir, p))
		must(t, err)
		if got := st.Mode() & (fs.ModePerm | fs.ModeSetgid); got != 0o755 {
			t.Errorf("%s: mode %v, want 0755", p, got)
		}
	}
}

// TestUnpackRemovingCostLinear: removing a path costs about the same
// however many owners are wanted elsewhere in the tree (a user namespace
// records one for each file it cannot give): each removal scanned every
// wanted owner, and a layer replacing 20000 files wanting one took 18 s
// where 2. The CPU time of the process is compared, not the wall clock,
// and the better of two runs, so that a loaded machine does not decide.
func TestUnpackRemovingCostLinear(t *testing.T) {
	const files, elsewhere = 3000, 60000
	cpu := func(wanted bool) time.Duration {
		best := time.Duration(math.MaxInt64)
		for range 2 {
			u := &unpacker{root: t.TempDir(), want: map[string][2]uint32{}, dirs: map[string]*tar.Header{}}
			for i := range files {
				must(t, os.WriteFile(u.phys(fmt.Sprint("f", i)), nil, 0o644))
			}
			if wanted {
				for i := range elsewhere {
					u.want[fmt.Sprint("app/", i)] = [2]uint32{1000, 1000}
				}
			}
			var before, after unix.Rusage
			must(t, unix.Getrusage(unix.RUSAGE_SELF, &before))
			for i := range files {
				must(t, u.remove(fmt.Sprint("f", i)))
			}
			must(t, unix.Getrusage(unix.RUSAGE_SELF, &after))
			best = min(best, time.Duration(after.Utime.Nano()-before.Utime.Nano()+after.Stime.Nano()-before.Stime.Nano()))
		}
		return best
	}
	none, many := cpu(false), cpu(true)
	t.Logf("CPU: %v with %d owners wanted elsewhere, %v with none", many, elsewhere, none)
	if many > 3*none+200*time.Millisecond {
		t.Errorf("removing %d files took %v of CPU with %d owners wanted elsewhere, %v with none", files, many, elsewhere, none)
	}
}
