package nar_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/nar"
	"dockertools.dev/imgkit/storefs"
	"dockertools.dev/testkit"
)

// Vectors printed by Nix 2.8: nix-hash --type sha256 --to-base32 HEX.
var base32Vectors = []struct{ hex, base32 string }{
	{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"},
	{"906e29fa664cfb6299d785cfad62e522533733dd6236688b76e5212f78a2cfc8", "1j6gl9w2y8g5fs5nhdk2vlrkflr2wmiavkw5sycn5ysccvx2jvlh"},
}

func TestBase32Vectors(t *testing.T) {
	for _, v := range base32Vectors {
		b, _ := hex.DecodeString(v.hex)
		if got := nar.EncodeBase32(b); got != v.base32 {
			t.Errorf("EncodeBase32(%s) = %s, want %s", v.hex, got, v.base32)
		}
		back, err := nar.DecodeBase32(v.base32, len(b))
		if err != nil || !bytes.Equal(back, b) {
			t.Errorf("DecodeBase32(%s) = %x, %v; want %s", v.base32, back, err, v.hex)
		}
	}
}

// TestBase32RoundTrip covers every length Nix hashes have (md5, sha1,
// sha256, sha512) and the 20 bytes of a store path's hash part.
func TestBase32RoundTrip(t *testing.T) {
	for _, n := range []int{16, 20, 32, 64} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		s := nar.EncodeBase32(b)
		if len(s) != nar.Base32Len(n) {
			t.Fatalf("%d bytes: %d characters, want %d", n, len(s), nar.Base32Len(n))
		}
		back, err := nar.DecodeBase32(s, n)
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("%d bytes: round trip gave %x, %v", n, back, err)
		}
	}
}

func TestDecodeBase32Refuses(t *testing.T) {
	good := base32Vectors[0].base32
	for name, s := range map[string]string{
		"short":             good[1:],
		"letter e":          "e" + good[1:],
		"upper case":        strings.ToUpper(good),
		"bits past the end": "z" + good[1:], // the first character carries the last 4 bits only
	} {
		if _, err := nar.DecodeBase32(s, 32); err == nil {
			t.Errorf("%s: %q accepted", name, s)
		}
	}
}

func TestParseHash(t *testing.T) {
	const b32 = "sha256:1j6gl9w2y8g5fs5nhdk2vlrkflr2wmiavkw5sycn5ysccvx2jvlh"
	sum, _ := hex.DecodeString("906e29fa664cfb6299d785cfad62e522533733dd6236688b76e5212f78a2cfc8")
	for _, in := range []string{
		b32,
		"sha256:906e29fa664cfb6299d785cfad62e522533733dd6236688b76e5212f78a2cfc8",
		"sha256-kG4p+mZM+2KZ14XPrWLlIlM3M91iNmiLduUhL3iiz8g=",
	} {
		got, err := nar.ParseHash(in)
		if err != nil || !bytes.Equal(got[:], sum) {
			t.Errorf("ParseHash(%q) = %x, %v", in, got, err)
		}
		if n, err := nar.NormalizeHash(in); n != b32 || err != nil {
			t.Errorf("NormalizeHash(%q) = %q, %v; want %q", in, n, err, b32)
		}
	}
	for _, in := range []string{"", "md5:abc", "sha512-AAAA", "sha256-kG4p", "sha256:xyz", b32 + "0"} {
		if _, err := nar.ParseHash(in); !errors.Is(err, errdefs.ErrInvalidInput) {
			t.Errorf("ParseHash(%q): %v, want invalid input", in, err)
		}
	}
}

// tree makes a directory with every kind of node a NAR holds: regular and
// executable files (empty, small, unpadded, and larger than the copy
// buffer), nested and empty directories, symlinks; names that sort
// differently in byte order and in a locale.
func tree(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "x")
	for _, d := range []string{"d/e", "empty", "B"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	big := bytes.Repeat([]byte("0123456789abcde"), 100000)
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"a", []byte("hi\n"), 0o644}, {"B/c", nil, 0o644}, {"d/exe", []byte("x"), 0o755},
		{"d/e/big", big, 0o600}, {"d/e/eight", []byte("12345678"), 0o444}, {"_", []byte("u"), 0o744},
	} {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"d/l": "../a", "abs": "/nix/store/x-y", "dangling": "nowhere"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func dump(t *testing.T, path string) []byte {
	t.Helper()
	parent, err := unix.Open(filepath.Dir(path), storefs.SearchOnly|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(parent)
	var buf bytes.Buffer
	n, err := nar.Dump(&buf, parent, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("Dump says %d bytes, wrote %d", n, buf.Len())
	}
	hash, size, err := nar.Hash(parent, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	if want := nar.FormatHash(sha256.Sum256(buf.Bytes())); hash != want || size != uint64(buf.Len()) {
		t.Fatalf("Hash = %s %d, want %s %d", hash, size, want, buf.Len())
	}
	return buf.Bytes()
}

// TestDumpAsNix compares Dump with nix-store --dump, and Hash with
// nix-hash, on a tree of every node type and on a top-level symlink and
// file (a store path may be either).
func TestDumpAsNix(t *testing.T) {
	testkit.Need(t, "nix")
	dir := tree(t)
	for _, p := range []string{dir, filepath.Join(dir, "d", "l"), filepath.Join(dir, "d", "e", "big")} {
		want, err := exec.Command("nix-store", "--dump", p).Output()
		if err != nil {
			t.Fatalf("nix-store --dump %s: %v", p, err)
		}
		if got := dump(t, p); !bytes.Equal(got, want) {
			t.Errorf("%s: Dump differs from nix-store --dump (%d bytes against %d)", p, len(got), len(want))
		}
		out, err := exec.Command("nix-hash", "--type", "sha256", "--base32", p).Output()
		if err != nil {
			t.Fatalf("nix-hash %s: %v", p, err)
		}
		parent, _ := unix.Open(filepath.Dir(p), storefs.SearchOnly|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		hash, _, err := nar.Hash(parent, filepath.Base(p))
		unix.Close(parent)
		if want := "sha256:" + strings.TrimSpace(string(out)); err != nil || hash != want {
			t.Errorf("%s: Hash = %s, %v; nix-hash says %s", p, hash, err, want)
		}
	}
}

// TestDumpRefusesFifo: a named pipe has no NAR node; it is refused, never
// opened (which would hang).
func TestDumpRefusesFifo(t *testing.T) {
	dir := tree(t)
	if err := unix.Mkfifo(filepath.Join(dir, "d", "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	parent, _ := unix.Open(filepath.Dir(dir), storefs.SearchOnly|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	defer unix.Close(parent)
	_, err := nar.Dump(&bytes.Buffer{}, parent, "x")
	if !errors.Is(err, errdefs.ErrInvalidInput) || !strings.Contains(err.Error(), `"x/d/pipe": a named pipe`) {
		t.Fatalf("err = %v", err)
	}
}

// TestDumpFileReplacedByCopy: `nix-store --optimise` renames the identical
// file of /nix/store/.links over a store file, maybe between Dump
// examining it and opening it: the NAR is the one of the path as it was
// (it failed with "it was replaced"). A replacement that disagrees with
// the node written so far (another size, the execute bit, a symlink) is
// still an error.
func TestDumpFileReplacedByCopy(t *testing.T) {
	dir := tree(t)
	want := dump(t, dir)
	big := filepath.Join(dir, "d", "e", "big")
	data, err := os.ReadFile(big)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		replace func(tmp string) error
		ok      bool
	}{
		{"copy", func(tmp string) error { return os.WriteFile(tmp, data, 0o600) }, true},
		{"other size", func(tmp string) error { return os.WriteFile(tmp, data[1:], 0o600) }, false},
		{"executable", func(tmp string) error { return os.WriteFile(tmp, data, 0o700) }, false},
		{"symlink", func(tmp string) error { return os.Symlink("../a", tmp) }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(big, data, 0o600); err != nil {
				t.Fatal(err)
			}
			fired := false
			nar.SetTestHookOpen(func(rel string) {
				if rel == "x/d/e/big" && !fired {
					fired = true
					tmp := big + ".link"
					if err := c.replace(tmp); err != nil {
						t.Error(err)
					}
					if err := os.Rename(tmp, big); err != nil {
						t.Error(err)
					}
				}
			})
			defer nar.SetTestHookOpen(nil)
			parent, _ := unix.Open(filepath.Dir(dir), storefs.SearchOnly|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			defer unix.Close(parent)
			var buf bytes.Buffer
			_, err := nar.Dump(&buf, parent, "x")
			switch {
			case !fired:
				t.Fatal("the file was not replaced")
			case c.ok && err != nil:
				t.Fatalf("a file replaced by its copy: %v", err)
			case c.ok && !bytes.Equal(buf.Bytes(), want):
				t.Fatal("the NAR differs from the one without the replacement")
			case !c.ok && !errors.Is(err, errdefs.ErrChanged):
				t.Fatalf("err = %v, want ErrChanged", err)
			}
		})
	}
}

// TestDumpNamesTheReplacedAncestor: a directory far above the one being
// read, closed to keep descriptors bounded (storefs.DirPath) and
// replaced by a symlink meanwhile, is the one the error names: it named
// the directory being read, eight levels below, which had not changed.
func TestDumpNamesTheReplacedAncestor(t *testing.T) {
	work := t.TempDir()
	top := filepath.Join(work, "x")
	deep := top
	for i := 1; i <= 40; i++ {
		deep = filepath.Join(deep, "d")
		if err := os.MkdirAll(deep, 0o755); err != nil {
			t.Fatal(err)
		}
		if i == 8 {
			if err := os.WriteFile(filepath.Join(deep, "z"), []byte("z"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(deep, "f"), []byte("f"), 0o644); err != nil {
		t.Fatal(err)
	}
	level := func(n int) string { return filepath.Join(top, strings.Repeat("d/", n-1)+"d") }
	nar.SetTestHookOpen(func(rel string) {
		if strings.HasSuffix(rel, "/f") {
			// The walk's ninth level leaves the tree (the climb back
			// through its ".." fails), and the third becomes a symlink.
			for _, err := range []error{
				os.Rename(level(9), filepath.Join(work, "away")),
				os.Rename(level(3), filepath.Join(work, "old")),
				os.Symlink("/", level(3)),
			} {
				if err != nil {
					t.Error(err)
				}
			}
		}
	})
	defer nar.SetTestHookOpen(nil)
	parent, _ := unix.Open(work, storefs.SearchOnly|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	defer unix.Close(parent)
	_, err := nar.Dump(&bytes.Buffer{}, parent, "x")
	if !errors.Is(err, errdefs.ErrChanged) || !strings.Contains(err.Error(), `"x/d/d/d"`) {
		t.Fatalf("err = %v, want x/d/d/d named as changed", err)
	}
}
