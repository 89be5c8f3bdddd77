package rootfs

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/archive"
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

// TestUnpackHardlinkOwnerChangesCostLinear: hardlink entries that change
// their file's owner cost about what as many that do not: Unpack walked
// the whole tree for each to find the file's other paths, so a layer of
// 2000 of them over 200 files took seconds of CPU where it takes a
// fraction of one (a crafted layer of many more: hours). The CPU time of
// the process is compared, not the wall clock, and the better of two
// runs, so that a loaded machine does not decide.
func TestUnpackHardlinkOwnerChangesCostLinear(t *testing.T) {
	const files, links = 200, 2000
	layer := func(changeOwner bool) *archive.Image {
		var lines []string
		for i := range files {
			lines = append(lines, fmt.Sprintf(`f 0644 0:0 f%d "x"`, i))
		}
		for i := range links {
			owner := "0:0"
			if changeOwner {
				owner = fmt.Sprintf("%d:%d", 1+i%2, 1+i%2)
			}
			lines = append(lines, fmt.Sprintf("h 0644 %s h%d f0", owner, i))
		}
		return imageOf(t, spec(lines...))
	}
	cpu := func(img *archive.Image) time.Duration {
		best := time.Duration(math.MaxInt64)
		for range 2 {
			var before, after unix.Rusage
			must(t, unix.Getrusage(unix.RUSAGE_SELF, &before))
			unpackInto(t, img)
			must(t, unix.Getrusage(unix.RUSAGE_SELF, &after))
			used := time.Duration(after.Utime.Nano() - before.Utime.Nano() + after.Stime.Nano() - before.Stime.Nano())
			best = min(best, used)
		}
		return best
	}
	same, changing := cpu(layer(false)), cpu(layer(true))
	t.Logf("CPU: %v with owners changed, %v without", changing, same)
	if changing > 3*same+300*time.Millisecond {
		t.Errorf("unpacking %d hardlink entries that change their file's owner took %v of CPU, %d that do not %v", links, changing, links, same)
	}
}
