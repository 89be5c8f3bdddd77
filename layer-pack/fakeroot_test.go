package main

import (
	"errors"
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarw"
)

func TestReadFakeState(t *testing.T) {
	for _, c := range []struct {
		name, in string
		bad      bool
	}{
		{"SavedByFakeroot131", "dev=fe00,ino=9978347,mode=20644,uid=0,gid=0,nlink=1,rdev=1281\n", false},
		{"UnknownKeysIgnored", "dev=1,ino=2,mode=100644,uid=3,gid=4,xattr=abc\n", false},
		{"EmptyFile", "", false},
		{"MissingIno", "dev=1,mode=100644,uid=3,gid=4\n", true},
		{"OctalModeExpected", "dev=1,ino=2,mode=9,uid=3,gid=4\n", true},
		{"NotKeyValue", "dev=1,ino\n", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := readFakeState(strings.NewReader(c.in)); c.bad != (err != nil) {
				t.Errorf("err = %v, want failure %v", err, c.bad)
			}
		})
	}
}

// TestFakeStateIDsAreLinuxIDs: a uid or gid of the fakeroot state is
// bounded as one of a configuration or a flag (cli.MaxID): faked keeps a
// uid_t, so a larger one is a crafted file, and it was written as given:
// uid=4294967296 gave an entry GNU tar refuses and an unpacker's chown
// cuts to 0 (root), gid=18446744073709551615 a gid of -1, exit 0.
func TestFakeStateIDsAreLinuxIDs(t *testing.T) {
	for _, f := range []string{"uid=4294967295,gid=0", "uid=4294967296,gid=0", "uid=0,gid=18446744073709551615"} {
		_, err := readFakeState(strings.NewReader("dev=1,ino=2,mode=100644," + f + ",nlink=1,rdev=0\n"))
		if !errors.Is(err, errdefs.ErrInvalidInput) || !strings.Contains(err.Error(), "4294967294") {
			t.Errorf("%s: %v, want refused naming the range", f, err)
		}
	}
	st, err := readFakeState(strings.NewReader("dev=1,ino=2,mode=100644,uid=4294967294,gid=4294967294,nlink=1,rdev=0\n"))
	if v := st[fakeKey{1, 2}]; err != nil || v.uid != cli.MaxID || v.gid != cli.MaxID {
		t.Fatalf("the largest id: %+v, %v", v, err)
	}
}

// TestFakeStateApply: what tar inside the fakeroot session would see.
func TestFakeStateApply(t *testing.T) {
	st, err := readFakeState(strings.NewReader("dev=fe00,ino=1,mode=20644,uid=0,gid=0,nlink=1,rdev=1281\n" +
		"dev=fe00,ino=2,mode=40700,uid=1000,gid=100,nlink=2,rdev=0\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		in   entry
		want tarw.Header
	}{
		{"MknodBecomesDevice", entry{dev: 0xfe00, ino: 1, hdr: tarw.Header{Name: "./null", Type: tarw.TypeReg, Mode: 0o644, Uid: 5}},
			tarw.Header{Name: "./null", Type: tarw.TypeChar, Mode: 0o644, Devmajor: 5, Devminor: 1}},
		{"ChownAndChmod", entry{dev: 0xfe00, ino: 2, hdr: tarw.Header{Name: "./home/", Type: tarw.TypeDir, Mode: 0o755}},
			tarw.Header{Name: "./home/", Type: tarw.TypeDir, Mode: 0o700, Uid: 1000, Gid: 100}},
		{"UnknownFileOwnedByRoot", entry{dev: 0xfe00, ino: 3, hdr: tarw.Header{Name: "./f", Type: tarw.TypeReg, Mode: 0o600, Uid: 1234, Gid: 99, Size: 4}},
			tarw.Header{Name: "./f", Type: tarw.TypeReg, Mode: 0o600, Size: 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := c.in
			st.apply(&e)
			if e.hdr != c.want {
				t.Errorf("got %+v, want %+v", e.hdr, c.want)
			}
		})
	}
}

func TestExcludeName(t *testing.T) {
	for in, want := range map[string]string{"./dev": "./dev", "dev": "./dev", "/dev/": "./dev", "./nix/store": "./nix/store", ".": "", "/": ""} {
		got, err := excludeName(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("excludeName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
