package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/oci"
)

// fillLayout writes into dir the files of a layout manifest-gen writes,
// whose one image manifest says who: enough for readOldLayout to take it
// for one, and for a test to tell two apart.
func fillLayout(t *testing.T, dir, who string) {
	t.Helper()
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","who":"` + who + `"}`)
	d := oci.DescriptorOf("application/vnd.oci.image.manifest.v1+json", manifest)
	files := map[string][]byte{
		"oci-layout":    []byte(`{"imageLayoutVersion":"1.0.0"}`),
		"index.json":    oci.Index(manifest, "", ""),
		"manifest.json": []byte(`[]`),
		filepath.Join("blobs", "sha256", d.Digest.Encoded()): manifest,
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOCIDirFreshBuildsFinishTogether: two builds into one new -o DIR
// that finish at once, the second's layout taking DIR between the first's
// check that DIR is new and its rename, both succeed: the first replaces
// the second's layout as it would have had it come a moment earlier (it
// failed with "directory not empty"), and no temporary directory stays.
func TestOCIDirFreshBuildsFinishTogether(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	o := &cli.IO{Stdout: io.Discard, Stderr: io.Discard, Tool: "manifest-gen"}
	first, err := openDirOutput(o, dir)
	if err != nil {
		t.Fatal(err)
	}
	second, err := openDirOutput(o, dir)
	if err != nil {
		t.Fatal(err)
	}
	fillLayout(t, first.dir, "first")
	fillLayout(t, second.dir, "second")
	testHookCommitChecked = func() {
		testHookCommitChecked = nil
		if err := second.commit(); err != nil {
			t.Errorf("the second build: %v", err)
		}
	}
	defer func() { testHookCommitChecked = nil }()
	if err := first.commit(); err != nil {
		t.Fatalf("the first build: %v", err)
	}
	old, err := readOldLayout(dir)
	if err != nil || old == nil {
		t.Fatalf("DIR is no layout: %v", err)
	}
	if !old.holdsWho(t, "first") {
		t.Fatal("DIR holds another layout than the first build's, the last to finish")
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("beside DIR: %v, want nothing", entries)
	}
}

// holdsWho reports whether the layout's one manifest says who.
func (o *oldLayout) holdsWho(t *testing.T, who string) bool {
	t.Helper()
	for hex := range o.blobs {
		data, err := os.ReadFile(filepath.Join(o.dir, "blobs", "sha256", hex))
		if err != nil {
			t.Fatal(err)
		}
		if string(data) == `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","who":"`+who+`"}` {
			return true
		}
	}
	return false
}

// TestOCIDirImageAddedAtCommitIsKept: another tool adding an image to
// -o DIR (skopeo copy … oci:DIR:other) in the instant between the
// commit's last check of DIR and its exchange, which the build would
// drop with the old layout, fails the build with one line, and DIR is
// left with the image added. NextBuildStarts: another build into DIR
// starts just after the exchange, while the layout taken out of DIR sits
// under the temporary's name; its cleanup of killed builds' temporaries
// must not take it for one (it removed it, image added and all, and the
// commit then found nothing to put back and succeeded).
func TestOCIDirImageAddedAtCommitIsKept(t *testing.T) {
	o := &cli.IO{Stdout: io.Discard, Stderr: io.Discard, Tool: "manifest-gen"}
	for name, exchanged := range map[string]func(dir string){
		"Alone": func(string) {},
		"NextBuildStarts": func(dir string) {
			next, err := openDirOutput(o, dir)
			if err != nil {
				t.Errorf("the next build: %v", err)
				return
			}
			next.abort()
		},
	} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			fillLayout(t, dir, "old")
			out, err := openDirOutput(o, dir)
			if err != nil {
				t.Fatal(err)
			}
			fillLayout(t, out.dir, "new")
			testHookCommitChecked = func() {
				testHookCommitChecked = nil
				addImage(t, dir, "other")
			}
			testHookExchanged = func() {
				testHookExchanged = nil
				exchanged(dir)
			}
			defer func() { testHookCommitChecked, testHookExchanged = nil, nil }()
			err = out.commit()
			if err == nil || !strings.Contains(err.Error(), "index.json lists 2 images") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("commit = %v, want one line saying another image was added", err)
			}
			index, err := os.ReadFile(filepath.Join(dir, "index.json"))
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(index), `"digest"`); n != 2 {
				t.Fatalf("DIR's index.json lists %d manifests, want the 2 it had: %s", n, index)
			}
			entries, err := os.ReadDir(parent)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Fatalf("beside DIR: %v, want nothing", entries)
			}
		})
	}
}

// addImage adds to the layout in dir (fillLayout's) an image manifest
// that says who, listing it in index.json after the one there, as
// skopeo copy … oci:DIR:TAG does.
func addImage(t *testing.T, dir, who string) {
	t.Helper()
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","who":"` + who + `"}`)
	d := oci.DescriptorOf("application/vnd.oci.image.manifest.v1+json", manifest)
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Digest.Encoded()), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	entry := fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d}`, d.Digest, len(manifest))
	i := strings.LastIndex(string(index), "]")
	index = []byte(string(index[:i]) + "," + entry + string(index[i:]))
	if err := os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644); err != nil {
		t.Fatal(err)
	}
}
