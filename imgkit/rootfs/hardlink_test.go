package rootfs

import (
	"os"
	"path/filepath"
	"testing"
)

// TestUnpackHardlinkHeaderApplies: a hardlink's header gives the file it
// shares with its target its owner, mode and time, as Docker applies them
// and tar-merge --flatten does (FuzzFlatten found Unpack keeping the
// target's: a layer linking bin/tool as 0700 7:8 unpacked as 0755 0:0).
func TestUnpackHardlinkHeaderApplies(t *testing.T) {
	dir, snap := unpackInto(t, imageOf(t,
		spec(`f 0755 0:0 ./bin/tool "the tool"`, "l 0777 0:0 ./sh tool"),
		spec("h 0700 7:8 ./lower-link bin/tool mtime=1000", "h 0700 7:8 ./sh-link sh")))
	for _, p := range []string{"bin/tool", "lower-link"} {
		r := snap.Lookup(p)
		if r.Mode != 0o700 || r.WantUid != 7 || r.WantGid != 8 || r.Mtime != 1000e9 {
			t.Errorf("%s: mode %04o, owner %d:%d, mtime %d; want 0700 7:8 1000", p, r.Mode, r.WantUid, r.WantGid, r.Mtime/1e9)
		}
	}
	// A link to a symlink leaves the symlink as it was.
	if r := snap.Lookup("sh-link"); r == nil || r.Link != "tool" || r.WantUid != 0 {
		t.Errorf("sh-link: %+v", r)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "sh")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("sh is no longer a symlink: %v", err)
	}
}
