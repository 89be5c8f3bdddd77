package layercache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
	"dockertools.dev/testkit"
)

// FuzzReadHoldings: a holdings list ReadHoldings accepts has valid digests
// and sizes, and written by WriteHoldings it reads back the same (blobs in
// any order); anything refused is one line wrapping ErrInvalidInput.
func FuzzReadHoldings(f *testing.F) {
	for _, fx := range testkit.FixturesNamed(f, ".json") {
		f.Add(fx.Data)
	}
	var seed bytes.Buffer
	WriteHoldings(&seed, Holdings{digest("1"): {{MediaType: oci.LayerMediaType(compress.Gzip), Digest: digest("2"), Size: 3}}})
	f.Add(seed.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHoldings(bytes.NewReader(data))
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput)
			return
		}
		for d, blobs := range h {
			for _, b := range blobs {
				if !validDigest(d) || !validDigest(b.Digest) || b.Size < 0 || b.MediaType == "" {
					t.Fatalf("accepted %s: %+v", d, b)
				}
			}
		}
		var out bytes.Buffer
		if err := WriteHoldings(&out, h); err != nil {
			t.Fatal(err)
		}
		back, err := ReadHoldings(&out)
		if err != nil {
			t.Fatalf("written as\n%s\nit does not read back: %v", out.Bytes(), err)
		}
		if !reflect.DeepEqual(sortedHoldings(back), sortedHoldings(h)) {
			t.Fatalf("%v read back as %v", h, back)
		}
	})
}

func sortedHoldings(h Holdings) Holdings {
	for _, blobs := range h {
		slices.SortFunc(blobs, func(a, b layerstream.Blob) int { return strings.Compare(a.Digest+a.MediaType, b.Digest+b.MediaType) })
	}
	return h
}

// envelopeOf is a record file holding body with its right checksum.
func envelopeOf(body []byte) []byte {
	sum := sha256.Sum256(body)
	return []byte(`{"sha256":"` + hex.EncodeToString(sum[:]) + `","record":` + string(body) + "}\n")
}

// FuzzRecords: whatever a cache file holds (the input as it is, or as the
// record of a file whose checksum is right), looking it up as a layer, a
// blob or a source record either gives ErrBadRecord, naming the file on
// one line, or a value with valid fields for exactly the key asked, which
// written again reads back the same.
func FuzzRecords(f *testing.F) {
	dir := f.TempDir()
	c, err := Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	blob := layerstream.Blob{MediaType: oci.LayerMediaType(compress.Gzip), Digest: digest("2"), Size: 7}
	must := func(err error) {
		if err != nil {
			f.Fatal(err)
		}
	}
	must(c.PutLayer(baseKey, Layer{DiffID: digest("1"), Size: 10240}))
	must(c.PutBlob(digest("1"), compress.Gzip, blob))
	must(c.PutSource("registry.example", digest("2"), "library/app"))
	for _, p := range []string{c.layerPath(baseKey), c.blobPath(digest("1"), compress.Gzip)} {
		data, err := os.ReadFile(p)
		must(err)
		var env envelope
		must(json.Unmarshal(data, &env))
		f.Add(data, false)
		f.Add([]byte(env.Record), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, wrap bool) {
		if wrap {
			data = envelopeOf(data)
		}
		c, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		must := func(err error) {
			if err != nil {
				t.Fatal(err)
			}
		}
		src, _ := c.sourcePath("registry.example", digest("2"))
		for _, p := range []string{c.layerPath(baseKey), c.blobPath(digest("1"), compress.Gzip), src} {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if l, err := c.Layer(baseKey); checkLookup(t, err) {
			if !validDigest(l.DiffID) || l.Size < 0 {
				t.Fatalf("layer record %+v accepted", l)
			}
			must(c.PutLayer(baseKey, l))
			if again, err := c.Layer(baseKey); err != nil || again != l {
				t.Fatalf("layer %+v written again reads as %+v, %v", l, again, err)
			}
		}
		if b, err := c.Blob(digest("1"), compress.Gzip); checkLookup(t, err) {
			if !validDigest(b.Digest) || b.Size < 0 || b.MediaType != oci.LayerMediaType(compress.Gzip) {
				t.Fatalf("blob record %+v accepted", b)
			}
			must(c.PutBlob(digest("1"), compress.Gzip, b))
			if again, err := c.Blob(digest("1"), compress.Gzip); err != nil || again != b {
				t.Fatalf("blob %+v written again reads as %+v, %v", b, again, err)
			}
		}
		if r, err := c.Source("registry.example", digest("2")); checkLookup(t, err) {
			if r == "" {
				t.Fatal("an empty repository accepted")
			}
			must(c.PutSource("registry.example", digest("2"), r))
			if again, err := c.Source("registry.example", digest("2")); err != nil || again != r {
				t.Fatalf("source %q written again reads as %q, %v", r, again, err)
			}
		}
	})
}

// checkLookup reports whether a lookup of a file that exists found a
// record, failing t unless it did or refused the file as ErrBadRecord on
// one line.
func checkLookup(t *testing.T, err error) bool {
	t.Helper()
	if err == nil {
		return true
	}
	if !errors.Is(err, ErrBadRecord) {
		t.Fatalf("a lookup says %v, not ErrBadRecord", err)
	}
	testkit.CheckError(t, err, ErrBadRecord)
	return false
}
