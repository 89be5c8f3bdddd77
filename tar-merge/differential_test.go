package main

import (
	"archive/tar"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/rootfs"
	"dockertools.dev/imgkit/tarsafe"
	"dockertools.dev/testkit"
)

var (
	diffSeeds = flag.Int("diff.seeds", 12, "how many generated layer stacks TestDifferential compares")
	diffFirst = flag.Uint64("diff.first", 1, "the first seed of TestDifferential")
)

// TestDifferential applies generated layer stacks (testkit.GenStack:
// whiteouts, opaque markers, replacements, hardlinks, repeated entries,
// implied parents, xattrs, sparse and empty files, fifos, devices) every
// way this project does and the ways umoci and Docker do, and compares
// the trees (testkit.CompareTrees):
//
//   - --flatten (export-image, build-image's --from-image base) with
//     rootfs.Unpack (--unpack, build-image --run-as-root): everything,
//     mtimes and xattrs too;
//   - --flatten with `umoci raw unpack` (as root): everything but
//     directories' mtimes and, for a directory no layer lists, what a
//     set-group-ID parent passes on to it (CompareOptions.ImpliedDirs),
//     for the stacks without a hardlink entry that changes its file's
//     metadata (umoci ignores that, Docker and the project apply it);
//   - --flatten with `docker create` + `docker export` (vfs): everything
//     but directories' mtimes (Docker touches a directory as it writes
//     into it), xattrs (docker export keeps only security.capability) and
//     the mode of directories no layer lists (Docker's are 0600, see
//     CompareOptions.ImpliedDirs), for the stacks made without the cases
//     where Docker departs from the OCI image spec (StackOptions.ForDocker);
//   - rootfs.StorePaths (layer-pack's view of a base) with the store
//     paths of the flattened tree;
//   - --flatten with --unpack in a user namespace (the owners it could
//     not give taken from its snapshot), and that with `umoci raw unpack
//     --rootless` (compareRootless);
//   - --flatten of each image of --merge's output (merge-images) of the
//     docker-archive and the OCI layout with --flatten of the first:
//     the same bytes.
//
// -diff.seeds N compares N stacks (a longer local run: -diff.seeds 500).
func TestDifferential(t *testing.T) {
	testkit.Need(t, "umoci")
	d := testkit.NeedDocker(t)
	classes := map[string]int{}
	for seed := *diffFirst; seed < *diffFirst+uint64(*diffSeeds); seed++ {
		// Every other stack leaves out what Docker refuses or applies
		// otherwise than the spec says, and is compared with Docker;
		// every fourth has hardlink entries change their file's
		// metadata, which umoci ignores. Two stacks in three may hold
		// devices, which a user namespace cannot make.
		st := testkit.GenStack(seed, testkit.StackOptions{Devices: seed%3 != 0, ForDocker: seed%2 == 0, HardlinkMeta: seed%4 == 0})
		for c, n := range st.Classes {
			classes[c] += n
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) { compareStack(t, d, seed, st, seed%2 == 0) })
	}
	var lines []string
	for c, n := range classes {
		lines = append(lines, fmt.Sprintf("%s=%d", c, n))
	}
	sort.Strings(lines)
	t.Logf("%d stacks; cases: %s", *diffSeeds, strings.Join(lines, " "))
}

func compareStack(t *testing.T, d *testkit.Docker, seed uint64, st testkit.Stack, docker bool) {
	dir := t.TempDir()
	defer func() {
		if t.Failed() {
			logStack(t, st)
		}
	}()
	var layers []string
	for i, l := range st.Layers {
		f := filepath.Join(dir, fmt.Sprintf("layer%d.tar", i))
		must(t, os.WriteFile(f, l, 0o644))
		layers = append(layers, f)
	}
	tag := fmt.Sprintf("tm-diff:%d", seed)
	img := filepath.Join(dir, "img.tar")
	writeImage(t, img, layers, testkit.ImageOptions{Tags: []string{tag}})
	ociTar := filepath.Join(dir, "oci.tar")
	writeImage(t, ociTar, layers, testkit.ImageOptions{OCI: true, Tags: []string{"diff"}})

	// --flatten.
	flat := filepath.Join(dir, "flat.tar")
	run(t, &command{Flatten: true, Output: flat, Compressor: "none", Images: []string{img}, AllowDevices: true, MaxExpanded: tarsafe.DefaultMaxExpanded})
	ours := tarTree(t, flat)

	// --merge (merge-images) of the docker-archive and the OCI layout:
	// each image flattens to the same bytes.
	merged := filepath.Join(dir, "merged.tar")
	run(t, &command{Merge: true, Output: merged, Compressor: "none", Images: []string{img, ociTar}, MaxExpanded: tarsafe.DefaultMaxExpanded})
	for _, name := range []string{tag, "diff"} {
		again := filepath.Join(dir, "again.tar")
		run(t, &command{Flatten: true, Image: name, Output: again, Compressor: "none", Images: []string{merged}, AllowDevices: true, MaxExpanded: tarsafe.DefaultMaxExpanded})
		a, b := readFile(t, flat), readFile(t, again)
		if !bytes.Equal(a, b) {
			t.Errorf("image %s of --merge's output flattens to other bytes than the image itself", name)
		}
	}

	// rootfs.Unpack, whatever the umask.
	a, err := archive.Open(img, nil)
	must(t, err)
	defer a.Close()
	root := filepath.Join(dir, "unpacked")
	must(t, os.Mkdir(root, 0o755))
	_, err = rootfs.Unpack(context.Background(), a.Images[0], root, rootfs.UnpackOptions{Tarsafe: tarsafe.Options{AllowDevices: true}})
	if err != nil {
		t.Fatalf("rootfs.Unpack: %v", err)
	}
	all := func(string) bool { return true }
	report(t, "rootfs.Unpack", ours, dirTree(t, root), testkit.CompareOptions{Mtimes: true, DirMtimes: true, Xattrs: all})

	// rootfs.StorePaths.
	paths, err := rootfs.StorePaths(context.Background(), a.Images[0], "/nix/store", tarsafe.Options{AllowDevices: true})
	must(t, err)
	if got, want := strings.Join(paths, "\n"), strings.Join(ours.StorePaths("nix/store"), "\n"); got != want {
		t.Errorf("rootfs.StorePaths says\n%s\nthe flattened tree holds\n%s", got, want)
	}

	// umoci.
	layout := filepath.Join(dir, "oci")
	untar(t, ociTar, layout)
	umociToo := st.Classes["umoci-ignores-hardlink-metadata"] == 0
	if umociToo {
		umociRoot := filepath.Join(dir, "umoci")
		if out, err := exec.Command("umoci", "raw", "unpack", "--image", layout+":diff", umociRoot).CombinedOutput(); err != nil {
			t.Fatalf("umoci raw unpack: %v: %s", err, out)
		}
		// umoci sets a directory's time when it makes it, and a later
		// entry in it moves the time on.
		report(t, "umoci", ours, dirTree(t, umociRoot), testkit.CompareOptions{Mtimes: true, Xattrs: all, ImpliedDirs: true})
	}

	compareRootless(t, dir, img, layout, ours, st, umociToo)

	if !docker {
		return
	}

	// Docker.
	exported := filepath.Join(dir, "docker.tar")
	name := fmt.Sprintf("tm-diff-%d", seed)
	for _, args := range [][]string{{"load", "-q", "-i", img}, {"create", "--name", name, tag, "/none"},
		{"export", "-o", exported, name}, {"rm", name}, {"rmi", tag}} {
		cmd := exec.Command("docker", args...)
		cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.Host)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker %s: %v: %s", args[0], err, out)
		}
	}
	theirs := tarTree(t, exported)
	report(t, "docker export", ours, theirs, testkit.CompareOptions{AbsentOK: testkit.DockerCreateAdds, Mtimes: true, ImpliedDirs: true, ImpliedDirMode: 0o600})
}

// compareRootless compares --unpack and `umoci raw unpack --rootless`,
// each run in a user namespace that maps root alone (as build-image
// --run-as-root runs --unpack), with --flatten: each with the owners it
// could not give taken from where it recorded them (the snapshot; umoci's
// user.rootlesscontainers attribute). A stack with devices is not
// compared: neither can make them there; nor is umoci, when it would
// ignore a hardlink entry's metadata.
func compareRootless(t *testing.T, dir, img, layout string, ours testkit.Tree, st testkit.Stack, umociToo bool) {
	if st.Classes["device"] > 0 {
		return
	}
	testkit.Need(t, "unshare")
	root, snapFile := filepath.Join(dir, "userns"), filepath.Join(dir, "userns.snapshot")
	must(t, os.Mkdir(root, 0o755))
	unshare(t, "tar-merge", "--unpack", root, "--snapshot", snapFile, img)
	all := func(string) bool { return true }
	report(t, "--unpack in a user namespace", ours, snapshotOwners(t, root, snapFile), testkit.CompareOptions{Mtimes: true, DirMtimes: true, Xattrs: all})
	if !umociToo {
		return
	}
	umociRoot := filepath.Join(dir, "umoci-rootless")
	unshare(t, "umoci", "raw", "unpack", "--rootless", "--image", layout+":diff", umociRoot)
	report(t, "umoci --rootless", ours, dirTree(t, umociRoot).UmociRootless(), testkit.CompareOptions{Mtimes: true, Xattrs: all, ImpliedDirs: true, FileAndDirOwnersOnly: true})
}

// snapshotOwners reads the tree --unpack made in root, with the owners
// its snapshot says the layers asked for.
func snapshotOwners(t *testing.T, root, snapFile string) testkit.Tree {
	t.Helper()
	snap, err := rootfs.ReadSnapshotFile(nil, snapFile)
	must(t, err)
	tree := dirTree(t, root)
	for p := range tree {
		if r := snap.Lookup(p); r != nil {
			tree.Chown(p, int(r.WantUid), int(r.WantGid))
		}
	}
	return tree
}

// unshare runs a command as root of a new user namespace that maps this
// process's user alone.
func unshare(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("unshare", append([]string{"--user", "--map-root-user"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("unshare %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// run runs tar-merge as c says, and fails t when it fails.
func run(t *testing.T, c *command) {
	t.Helper()
	var stderr bytes.Buffer
	if err := c.Run(context.Background(), &cli.IO{Stdout: io.Discard, Stderr: &stderr, Tool: "tar-merge"}); err != nil {
		t.Fatalf("tar-merge %v: %v (%s)", c.Images, err, stderr.String())
	}
}

func readFile(t *testing.T, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	must(t, err)
	return data
}

// report fails t with the differences between our tree and another's.
func report(t *testing.T, other string, ours, theirs testkit.Tree, opts testkit.CompareOptions) {
	t.Helper()
	if diffs := testkit.CompareTrees(ours, theirs, opts); len(diffs) > 0 {
		t.Errorf("--flatten (first) and %s (second) differ:\n%s", other, strings.Join(diffs, "\n"))
	}
}

// logStack lists the stack's layers, for a failure's report.
func logStack(t *testing.T, st testkit.Stack) {
	var b strings.Builder
	for i, l := range st.Layers {
		fmt.Fprintf(&b, "layer %d:\n", i+1)
		if err := testkit.ListTar(bytes.NewReader(l), &b, testkit.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("the stack (tarls):\n%s", b.String())
}

func writeImage(t *testing.T, file string, layers []string, opts testkit.ImageOptions) {
	f, err := os.Create(file)
	must(t, err)
	defer f.Close()
	must(t, testkit.MakeImage(f, layers, opts))
}

func tarTree(t *testing.T, file string) testkit.Tree {
	f, err := os.Open(file)
	must(t, err)
	defer f.Close()
	tree, err := testkit.ReadTarTree(f)
	must(t, err)
	return tree
}

func dirTree(t *testing.T, root string) testkit.Tree {
	tree, err := testkit.ReadDirTree(root)
	must(t, err)
	return tree
}

// untar extracts an OCI layout archive (directories and files) into dir.
func untar(t *testing.T, file, dir string) {
	f, err := os.Open(file)
	must(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		must(t, err)
		p := filepath.Join(dir, filepath.Clean("/"+h.Name))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		if h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			must(t, err)
			must(t, os.WriteFile(p, data, 0o644))
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
