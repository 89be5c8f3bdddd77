package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

func TestReadLines(t *testing.T) {
	long := "/nix/store/" + strings.Repeat("x", 1<<20)
	got, err := readLines(strings.NewReader("a\r\n\n  \n" + long + "\nlast"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", long, "last"}; !slices.Equal(got, want) {
		t.Errorf("readLines = %.40q, want %.40q", got, want)
	}
}

// TestResolve covers the ways an argument reaches a store path, and the
// attacks on --root: symlinks inside the store resolve logically and never
// leave the root.
func TestResolve(t *testing.T) {
	root := t.TempDir()
	storeDir := filepath.Join(root, "nix/store")
	a, b := hashN(1)+"-a", hashN(2)+"-b"
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Join(storeDir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ln := func(target, link string) {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	mk(a + "/share")
	mk(b + "/bin")
	ln("/nix/store/"+b+"/bin", filepath.Join(storeDir, a, "bin"))          // absolute, logical
	ln("/etc", filepath.Join(storeDir, a, "etc"))                          // the host's /etc is not the root's
	ln("../../../../../../../../..", filepath.Join(storeDir, a, "up"))     // ".." stops at the root
	ln("loop", filepath.Join(storeDir, a, "loop"))                         // a symlink to itself
	ln("/nix/store/"+a, filepath.Join(root, "result"))                     // ./result, logical target
	ln(filepath.Join(root, "result"), filepath.Join(root, "result2"))      // a chain outside the store
	ln("/nix/store/"+hashN(3)+"-gone", filepath.Join(root, "dangling"))    // a dangling ./result
	ln(filepath.Join(storeDir, a), filepath.Join(root, "physical-result")) // physical target
	ln("nix/store", filepath.Join(root, "store-link"))                     // a directory link on the way
	if err := os.WriteFile(filepath.Join(root, "outside"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "nix", "etc-file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	st := &store{dir: "/nix/store", root: root}
	tests := []struct {
		name, arg, want string
		err             error
	}{
		{"Logical", "/nix/store/" + a, a, nil},
		{"Physical", filepath.Join(storeDir, a), a, nil},
		{"FileInside", "/nix/store/" + a + "/share", a, nil},
		{"CutToTopLevelThroughALink", "/nix/store/" + a + "/bin", a, nil},
		{"ResultLink", filepath.Join(root, "result"), a, nil},
		{"LinkChain", filepath.Join(root, "result2"), a, nil},
		{"PhysicalResultLink", filepath.Join(root, "physical-result"), a, nil},
		{"LinkOnTheWay", filepath.Join(root, "store-link", a), a, nil},
		{"DanglingResult", filepath.Join(root, "dangling"), "", errdefs.ErrNotFound},
		{"Missing", "/nix/store/" + hashN(4) + "-missing", "", errdefs.ErrNotFound},
		{"MissingInside", "/nix/store/" + a + "/nothing", "", errdefs.ErrNotFound},
		{"SymlinkOutOfTheRoot", "/nix/store/" + a + "/etc/passwd", "", errdefs.ErrNotFound},
		{"DotDotStopsAtTheRoot", "/nix/store/" + a + "/up/nix/etc-file", a, nil},
		{"Loop", "/nix/store/" + a + "/loop/x", "", syscall.ELOOP},
		{"Outside", filepath.Join(root, "outside"), "", errdefs.ErrOutsideStore},
		{"StoreDirItself", "/nix/store", "", errdefs.ErrInvalidInput},
		{"NoHashPart", "/nix/store/.links", "", errdefs.ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.resolve(tt.arg)
			if got != tt.want || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Errorf("resolve(%q) = %q, %v; want %q, %v", tt.arg, got, err, tt.want, tt.err)
			}
		})
	}
	if _, err := os.Stat("/etc/passwd"); errors.Is(err, fs.ErrNotExist) {
		t.Log("the host has no /etc/passwd: SymlinkOutOfTheRoot proves less")
	}
}
