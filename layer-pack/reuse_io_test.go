package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/testkit"
)

// TestRebuildReadsOnlyTheChangedPath: the push workflow's rebuild (issue
// 12). A 100-layer image is packed with --cache; one store path is then
// replaced by a new one (a rebuilt package) and the image packed again with
// --reuse listing what the registry holds, every layer of the first build.
// What this process reads in the rebuild, as Linux counts it (rchar in
// /proc/self/io), is the new path's files and the customisation layer's,
// plus little: no file of the 99 unchanged layers. (With two CPUs a file
// is read twice, once to hash its layer apart from the output: both
// builds read twice what they pack.)
func TestRebuildReadsOnlyTheChangedPath(t *testing.T) {
	if _, err := testkit.ReadBytes(); err != nil {
		t.Skipf("no read accounting here: %v", err)
	}
	root := t.TempDir()
	const fileSize = 512 << 10
	mkpath := func(p string) {
		t.Helper()
		name := filepath.Join(root, p, "lib", "data")
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, bytes.Repeat([]byte(p[len(p)-3:]), fileSize/3+1)[:fileSize], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var plan [][]string
	for i := range 100 {
		p := fmt.Sprintf("/nix/store/%032d-pkg%03d", i, i)
		mkpath(p)
		plan = append(plan, []string{p})
	}
	custom := filepath.Join(root, "custom")
	if err := os.MkdirAll(custom, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(custom, "etc"), bytes.Repeat([]byte("c"), 256<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	run := func(plan [][]string, extra ...string) ([]byte, int64) {
		t.Helper()
		data, _ := json.Marshal(plan)
		var out, stderr bytes.Buffer
		o := &cli.IO{Stdin: bytes.NewReader(data), Stdout: &out, Stderr: &stderr}
		args := append([]string{"--root", root, "--cache", cache, "--customisation-dir", custom}, extra...)
		before, _ := testkit.ReadBytes()
		if code := cli.Run(context.Background(), "layer-pack", manual, &command{}, args, o); code != 0 {
			t.Fatalf("layer-pack exited %d: %s", code, stderr.String())
		}
		after, _ := testkit.ReadBytes()
		return out.Bytes(), after - before
	}
	first, coldRead := run(plan)
	// What the registry holds: every layer of the first build.
	var held []string
	r := layerstream.NewReader(bytes.NewReader(first), layerstream.Options{})
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, l)
	}
	for _, l := range r.Trailer().Layers {
		held = append(held, fmt.Sprintf(`{"diff_id":%q,"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%064x","size":1}`, l.DiffID, len(held)))
	}
	reuse := filepath.Join(t.TempDir(), "held.json")
	if err := os.WriteFile(reuse, []byte("[\n"+strings.Join(slices.Sorted(slices.Values(held)), ",\n")+"\n]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changed := "/nix/store/99999999999999999999999999999999-pkg050"
	mkpath(changed)
	plan[50] = []string{changed}
	second, read := run(plan, "--reuse", reuse)
	passes := int64(1)
	if min(runtime.GOMAXPROCS(0), maxHashers) >= 2 {
		passes = 2
	}
	want := passes * (fileSize + 256<<10)
	t.Logf("cold build read %d bytes; the rebuild %d bytes, for %d bytes of the new path and the customisation layer (%d passes)", coldRead, read, want, passes)
	if read < want || read > want+want/5 {
		t.Errorf("the rebuild read %d bytes: want the new path's and the customisation layer's %d, and little more", read, want)
	}
	if coldRead < 10*read {
		t.Errorf("the rebuild read %d bytes, more than a tenth of the cold build's %d", read, coldRead)
	}
	if !bytes.Contains(second, []byte("layers/099.ref")) || !bytes.Contains(second, []byte("layers/050.tar")) {
		t.Errorf("the rebuild should refer to the held layers and pack layer 50")
	}
}
