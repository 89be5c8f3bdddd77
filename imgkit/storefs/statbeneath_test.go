package storefs

import (
	"errors"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestStatBeneath: StatBeneath tells what OpenBeneath would open, without
// following a symlink anywhere or leaving the directory, and without
// opening the file itself where it cannot open it for search only (a FIFO
// opened for reading would wait for a writer: the test would hang).
func TestStatBeneath(t *testing.T) {
	bothWays(t, func(t *testing.T) {
		store, outside, dirfd := beneathStore(t)
		if err := unix.Mkfifo(filepath.Join(store, h+"-x/fifo"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			rel  string
			kind uint32
			err  error
		}{
			{"Plain", h + "-x/sub/file", unix.S_IFREG, nil},
			{"Directory", h + "-x/sub", unix.S_IFDIR, nil},
			{"DirectoryItself", ".", unix.S_IFDIR, nil},
			{"FIFO", h + "-x/fifo", unix.S_IFIFO, nil},
			{"Missing", h + "-x/nothing", 0, unix.ENOENT},
			{"FileInMiddle", h + "-x/sub/file/more", 0, unix.ENOTDIR},
			{"SymlinkInMiddle", h + "-evil/secret", 0, unix.ELOOP},
			{"SymlinkInsideInMiddle", h + "-x/link/file", 0, unix.ELOOP},
			{"SymlinkAtEnd", h + "-evil", 0, unix.ELOOP},
			{"DotDot", h + "-x/../../outside/secret", 0, unix.EXDEV},
			{"Absolute", outside + "/secret", 0, unix.EXDEV},
			{"DotDotStayingBelow", h + "-x/sub/..", 0, unix.EXDEV},
			{"Empty", "", 0, unix.ENOENT},
		} {
			t.Run(c.name, func(t *testing.T) {
				st, err := StatBeneath(dirfd, c.rel)
				if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				if err != nil {
					return
				}
				var want unix.Stat_t
				if err := unix.Lstat(filepath.Join(store, c.rel), &want); err != nil {
					t.Fatal(err)
				}
				if uint32(st.Mode)&unix.S_IFMT != c.kind || st.Ino != want.Ino || st.Dev != want.Dev {
					t.Errorf("stat mode %o inode %d, want the %o at %s (inode %d)", st.Mode, st.Ino, c.kind, c.rel, want.Ino)
				}
			})
		}
	})
}
