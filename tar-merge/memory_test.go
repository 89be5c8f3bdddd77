package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"dockertools.dev/testkit"
)

// peakRSS runs tar-merge with args and returns its peak resident set in
// KiB. It runs through a small python3 parent: Linux starts a child's
// peak-RSS record at the size of the process it was forked from, and the
// test binary is large; python3 is small and reports its children's peak.
func peakRSS(t *testing.T, args ...string) int64 {
	t.Helper()
	const parent = `import resource, subprocess, sys
r = subprocess.run(sys.argv[1:])
if r.returncode != 0:
    sys.exit(r.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)`
	cmd := exec.Command("python3", append([]string{"-c", parent, "tar-merge"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tar-merge %s: %v", strings.Join(args, " "), err)
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatalf("peak RSS %q: %v", out, err)
	}
	return kib
}

// pathsImage writes an image of two layers holding the same 500 paths
// whatever fileSize is: the first layer has 4 files of fileSize bytes and
// 496 small ones, the second replaces one big file and whites out another.
func pathsImage(t *testing.T, dir, name string, fileSize int64) string {
	t.Helper()
	var l1, l2 strings.Builder
	l1.WriteString("d 0755 0:0 big/\nd 0755 0:0 small/\n")
	for i := range 4 {
		fmt.Fprintf(&l1, "f 0644 0:0 big/f%d size=%d\n", i, fileSize)
	}
	for i := range 496 {
		fmt.Fprintf(&l1, "f 0644 0:0 small/f%03d \"%d\"\n", i, i)
	}
	fmt.Fprintf(&l2, "f 0600 0:0 big/f0 size=%d\nf 0644 0:0 big/.wh.f1 \"\"\n", fileSize)
	var layers []string
	for i, spec := range []string{l1.String(), l2.String()} {
		f := filepath.Join(dir, fmt.Sprintf("%s-%d.tar", name, i))
		w, err := os.Create(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := testkit.MakeTar(strings.NewReader(spec), w, testkit.TarOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		layers = append(layers, f)
	}
	img := filepath.Join(dir, name+".img")
	w, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := testkit.MakeImage(w, layers, testkit.ImageOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		os.Remove(l)
	}
	return img
}

// TestFlattenMemoryDoesNotGrowWithBytes: memory grows with the number of
// paths, never with the bytes (issue 5). Two images with the same paths,
// one with a few KiB of file content and one with 240 MiB, flatten with
// peaks a few MiB apart; holding the content would add it all.
func TestFlattenMemoryDoesNotGrowWithBytes(t *testing.T) {
	testkit.Need(t, "python3")
	if testing.Short() {
		t.Skip("SKIP: -short: writes two images of 250 MiB")
	}
	dir := t.TempDir()
	small := pathsImage(t, dir, "small", 1<<10)
	big := pathsImage(t, dir, "big", 48<<20)
	smallRSS := peakRSS(t, "--flatten", "-o", os.DevNull, small)
	bigRSS := peakRSS(t, "--flatten", "-o", os.DevNull, big)
	t.Logf("peak RSS: %d KiB for a few KiB of file content, %d KiB for 240 MiB", smallRSS, bigRSS)
	const slack = 16 << 10 // KiB
	if bigRSS > smallRSS+slack {
		t.Fatalf("flattening 240 MiB more content took %d KiB more memory (more than %d KiB): memory grows with the bytes", bigRSS-smallRSS, slack)
	}
}
