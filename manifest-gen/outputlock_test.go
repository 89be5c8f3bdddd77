package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/sbom"
)

// TestConcurrentBuildsCommitImageAndSBOMTogether: two builds writing the
// same -o FILE and --sbom-spdx FILE at once, the second committing while
// the first has put its image in place but not yet its SBOM, leave the
// image and the SBOM of one build: the second waits for the first. (The
// second's commit is given half a second inside the first's; it finished
// there, and the first's SBOM then went beside the second's image.)
func TestConcurrentBuildsCommitImageAndSBOMTogether(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "img.tar")
	o := &cli.IO{Stdout: io.Discard, Stderr: io.Discard, Tool: "manifest-gen"}
	build := func(who string) (*output, *sbomFiles) {
		out, err := openOutput(o, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(out, who); err != nil {
			t.Fatal(err)
		}
		r := &sbomRequest{files: []sbomFile{{sbom.FormatSPDX, name + ".spdx.json"}}}
		files, err := r.writeFiles(&cli.IO{}, map[sbom.Format][]byte{sbom.FormatSPDX: []byte(who)})
		if err != nil {
			t.Fatal(err)
		}
		return out, files
	}
	firstOut, firstSBOM := build("first")
	secondOut, secondSBOM := build("second")
	second := make(chan error, 1)
	testHookOutputCommitted = func() {
		testHookOutputCommitted = nil
		go func() { second <- commitOutputs(name, secondOut, secondSBOM, nil) }()
		select {
		case err := <-second:
			second <- err
		case <-time.After(500 * time.Millisecond):
		}
	}
	defer func() { testHookOutputCommitted = nil }()
	if err := commitOutputs(name, firstOut, firstSBOM, nil); err != nil {
		t.Fatalf("the first build: %v", err)
	}
	if err := <-second; err != nil {
		t.Fatalf("the second build: %v", err)
	}
	img, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(name + ".spdx.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(img) != string(doc) {
		t.Fatalf("the image is the %s build's, its SBOM the %s build's", img, doc)
	}
}
