package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

// writeIndex writes a multi-platform OCI layout tar of one-layer images,
// one per config platform JSON ({"os":…,"architecture":…}), listed in an
// image index as given (oci.PlatformIndex lists what it is given: a
// foreign tool's index may hold two images for one platform).
func writeIndex(t *testing.T, platforms ...string) string {
	t.Helper()
	return writeNamedIndex(t, "", "", platforms...)
}

// writeNamedIndex is writeIndex with index.json naming the index
// fullName:tag, as build-index --tag does.
func writeNamedIndex(t *testing.T, fullName, tag string, platforms ...string) string {
	t.Helper()
	var buf bytes.Buffer
	lw := archive.NewLayoutWriter(&buf)
	put := func(data []byte) {
		if err := lw.Blob(oci.DigestOf(data), int64(len(data)), bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	var images []oci.PlatformImage
	for i, p := range platforms {
		layer := make([]byte, 1024*(i+2)) // a distinct empty tar per image
		config := []byte(`{"rootfs":{"type":"layers","diff_ids":["` + oci.DigestOf(layer) + `"]},` + strings.TrimPrefix(p, "{"))
		put(layer)
		put(config)
		blob := layerstream.Blob{MediaType: oci.LayerMediaType(compress.None), Digest: oci.DigestOf(layer), Size: int64(len(layer))}
		m := oci.Manifest(config, []layerstream.Blob{blob})
		put(m)
		plat, err := oci.ConfigPlatform(config)
		if err != nil {
			t.Fatal(err)
		}
		images = append(images, oci.PlatformImage{Manifest: m, Platform: plat})
	}
	index := oci.PlatformIndex(images)
	put(index)
	for name, data := range map[string][]byte{"oci-layout": oci.LayoutFile, "index.json": oci.LayoutIndex(index, fullName, tag)} {
		if err := lw.File(name, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "index.tar")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestIndexInputGivesEveryImage: a multi-platform archive is pushed as an
// index of all its images, each with its config's platform; --archive-image
// pushes one image instead (here none has the tag).
func TestIndexInputGivesEveryImage(t *testing.T) {
	file := writeIndex(t, `{"os":"linux","architecture":"arm64"}`, `{"os":"linux","architecture":"amd64"}`)
	imgs, index, err := openImage(&cli.IO{}, file, "")
	if err != nil {
		t.Fatal(err)
	}
	defer imgs[0].close()
	if !index || len(imgs) != 2 {
		t.Fatalf("index %v, %d images", index, len(imgs))
	}
	// The index lists them by platform.
	for i, want := range []string{"linux/amd64", "linux/arm64"} {
		if got := oci.PlatformString(imgs[i].platform); got != want {
			t.Errorf("image %d: platform %s, want %s", i+1, got, want)
		}
	}
	if _, _, err := openImage(&cli.IO{}, file, "app:1"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("--archive-image app:1: %v, want not found", err)
	}
}

// TestIndexArchiveImageTakesHostPlatform: --archive-image naming a
// multi-platform image, all of whose images have its name, pushes the
// image for this machine's platform, as tar-merge and docker take it from
// an index: not the first the index lists (386 sorts before every 64-bit
// platform).
func TestIndexArchiveImageTakesHostPlatform(t *testing.T) {
	host := oci.HostPlatform()
	file := writeNamedIndex(t, "docker.io/library/app:1", "1",
		`{"os":"linux","architecture":"386"}`,
		`{"os":"linux","architecture":"`+host.Architecture+`","variant":"`+host.Variant+`"}`)
	imgs, index, err := openImage(&cli.IO{}, file, "app:1")
	if err != nil {
		t.Fatal(err)
	}
	defer imgs[0].close()
	if index || len(imgs) != 1 {
		t.Fatalf("index %v, %d images", index, len(imgs))
	}
	config, err := imgs[0].produce(context.Background(), func(*pushLayer) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := oci.ConfigPlatform(config); p.Architecture != host.Architecture {
		t.Errorf("pushed the %s image, want this machine's %s", oci.PlatformString(p), host.Architecture)
	}
}

// TestIndexArchiveImageTakesLoneImage: --archive-image naming a
// multi-platform image that holds one image, for another machine, pushes
// that image, as it did before the platform was looked at and as its
// docker-archive pushes: there is nothing to choose from. Of two images
// none of which is this machine's, it is an error naming them.
func TestIndexArchiveImageTakesLoneImage(t *testing.T) {
	foreign := `{"os":"linux","architecture":"s390x"}`
	other := `{"os":"linux","architecture":"ppc64le"}`
	if a := oci.HostPlatform().Architecture; a == "s390x" || a == "ppc64le" {
		t.Skip("the test's foreign platforms are this machine's")
	}
	imgs, _, err := openImage(&cli.IO{}, writeNamedIndex(t, "docker.io/library/app:1", "1", foreign), "app:1")
	if err != nil {
		t.Fatal(err)
	}
	defer imgs[0].close()
	config, err := imgs[0].produce(context.Background(), func(*pushLayer) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := oci.ConfigPlatform(config); p.Architecture != "s390x" {
		t.Errorf("pushed the %s image, want the s390x one", oci.PlatformString(p))
	}
	if _, _, err := openImage(&cli.IO{}, writeNamedIndex(t, "docker.io/library/app:1", "1", foreign, other), "app:1"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("two foreign images: %v, want not found", err)
	}
}

// TestIndexInputRefusesSamePlatform: an index listing two images for one
// platform (arm64 is arm64/v8) is refused as it is opened, before the
// registry is asked anything, with one line naming both images.
func TestIndexInputRefusesSamePlatform(t *testing.T) {
	file := writeIndex(t, `{"os":"linux","architecture":"arm64"}`, `{"os":"linux","architecture":"arm64","variant":"v8"}`)
	_, _, err := openImage(&cli.IO{}, file, "")
	if err == nil {
		t.Fatal("opened")
	}
	want := `"` + file + `" (image 1) and "` + file + `" (image 2) are both images for "linux/arm64/v8": an index holds one image per platform: invalid input`
	if err.Error() != want || !errors.Is(err, errdefs.ErrInvalidInput) {
		t.Errorf("error %q\nwant  %q", err, want)
	}
}

// TestIndexRefusesSBOM: --sbom with a multi-platform image is one line
// once the input is opened, before the registry is asked anything (no
// registry listens at --dest): an SBOM describes one of its images.
func TestIndexRefusesSBOM(t *testing.T) {
	file := writeIndex(t, `{"os":"linux","architecture":"arm64"}`, `{"os":"linux","architecture":"amd64"}`)
	doc := filepath.Join(t.TempDir(), "image.cdx.json")
	if err := os.WriteFile(doc, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := cli.Run(t.Context(), "push-blob", manual, &command{},
		[]string{"--dest", "127.0.0.1:1/app:1", "--tls-verify=false", "--retries", "0", "--sbom", doc, file}, &cli.IO{Stdout: &stdout, Stderr: &stderr})
	want := `push-blob: --sbom "` + doc + `": "` + file + `" is a multi-platform image; attaching an SBOM to one of its images is not supported (--archive-image NAME[:TAG] pushes this machine's image alone, with it): invalid input` + "\n"
	if code != cli.ExitFailure || stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q\nwant exit 1, stderr %q", code, stdout.String(), stderr.String(), want)
	}
}
