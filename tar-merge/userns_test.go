package main

import (
	"os"
	"path/filepath"
	"testing"

	"dockertools.dev/imgkit/rootfs"
	"dockertools.dev/testkit"
)

// TestUnpackInUserNamespaceForgetsRemovedOwners: in a user namespace
// (build-image --run-as-root), --unpack records the owners it cannot give
// in its snapshot; a path a later layer removes takes its wanted owner
// with it, so that a directory a still later layer implies at that path
// is root's, as --flatten has it. TestDifferential found the snapshot
// giving such a directory the removed one's owner (0:42 here), which
// layer-pack --changes then packs when a script changes the directory.
func TestUnpackInUserNamespaceForgetsRemovedOwners(t *testing.T) {
	snap := unpackInUserNamespace(t,
		specLayer("d 0750 0:42 c/", `f 0644 1000:1000 c/f "f"`),
		specLayer(`f 0644 0:0 .wh.c ""`),
		specLayer(`f 0644 0:0 c/new "n"`))
	for _, p := range []string{"c", "c/new"} {
		if r := snap.Lookup(p); r == nil || r.WantUid != 0 || r.WantGid != 0 {
			t.Errorf("the snapshot gives %s the owner %v, want 0:0", p, r)
		}
	}
}

// TestUnpackInUserNamespaceHardlinkOwnerIsTheFiles: a hardlink entry's
// owner is its file's (as Docker and --flatten apply it), so every path of
// the file wants it in the snapshot, not only the entry and its target:
// b kept wanting 0:0 here where --flatten gives all three 1000:1000.
func TestUnpackInUserNamespaceHardlinkOwnerIsTheFiles(t *testing.T) {
	snap := unpackInUserNamespace(t,
		specLayer(`f 0644 0:0 a "f"`, "h 0644 0:0 b a"),
		specLayer("h 0644 1000:1000 c a"))
	for _, p := range []string{"a", "b", "c"} {
		if r := snap.Lookup(p); r == nil || r.WantUid != 1000 || r.WantGid != 1000 {
			t.Errorf("the snapshot gives %s the owner %v, want 1000:1000", p, r)
		}
	}
}

// TestUnpackInUserNamespaceHardlinkOwnerChanges: each hardlink entry
// that changes its file's owner gives it to every path the file has then
// or gets later, and a path replaced by another file keeps its own: the
// owners are settled per file once every layer is applied, not by
// updating every path at each entry.
func TestUnpackInUserNamespaceHardlinkOwnerChanges(t *testing.T) {
	snap := unpackInUserNamespace(t,
		specLayer(`f 0644 0:0 a "f"`, "h 0644 1000:1000 b a"),
		specLayer("h 0644 0:0 c a", `f 0644 1000:1000 b "new"`),
		specLayer("h 0644 2000:2000 d a", "h 0644 2000:2000 e a"))
	for p, want := range map[string]uint32{"a": 2000, "b": 1000, "c": 2000, "d": 2000, "e": 2000} {
		if r := snap.Lookup(p); r == nil || r.WantUid != want || r.WantGid != want {
			t.Errorf("the snapshot gives %s the owner %v, want %d:%d", p, r, want, want)
		}
	}
}

// unpackInUserNamespace runs tar-merge --unpack --snapshot on an image of
// layers as root of a user namespace that maps root alone, and returns
// the snapshot.
func unpackInUserNamespace(t *testing.T, layers ...layer) *rootfs.Snapshot {
	t.Helper()
	testkit.Need(t, "unshare")
	dir := t.TempDir()
	img := imageOfLayers(t, dir, layers, testkit.ImageOptions{})
	root, snapFile := filepath.Join(dir, "root"), filepath.Join(dir, "snapshot")
	must(t, os.Mkdir(root, 0o755))
	unshare(t, "tar-merge", "--unpack", root, "--snapshot", snapFile, img)
	snap, err := rootfs.ReadSnapshotFile(nil, snapFile)
	must(t, err)
	return snap
}
