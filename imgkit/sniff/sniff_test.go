package sniff

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"
)

func tarOf(t *testing.T, name string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	if err := w.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 0, Format: tar.FormatUSTAR}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.Bytes()
}

// Each document of docs/formats.md is named by its first bytes, and what
// cannot be told apart (an empty array) is not named.
func TestKind(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{[]byte("[\n{\"path\":\"/nix/store/a\"}]"), Graph},
		{[]byte(" [ [\"/nix/store/a\"]]"), Plan},
		{[]byte("[]\n"), ""},
		{[]byte("{\"store_layers\":[]}"), "nixpkgs' stream configuration (conf.json)"},
		{[]byte("{\"closure\":[]}"), ""},
		{[]byte("/nix/store/a\n"), "a list of paths (closure-scan's input)"},
		{tarOf(t, "layers/000.tar"), Stream},
		{tarOf(t, "stream.json"), Stream},
		{tarOf(t, "000/PaxHeaders.0/layer.tar"), Image},
		{tarOf(t, "blobs/sha256/00"), Image},
		{tarOf(t, "manifest.json"), Image},
		{tarOf(t, "etc/passwd"), "a tar archive"},
		{[]byte("\x1f\x8b\x08"), "gzip-compressed data"},
		{[]byte("\x28\xb5\x2f\xfd"), "zstd-compressed data"},
		{nil, ""},
	} {
		if got := Kind(c.in); got != c.want {
			t.Errorf("Kind(%.20q) = %q, want %q", c.in, got, c.want)
		}
	}
	if m, ok := Mismatch([]byte("[{}]"), Plan); !ok || m != "got "+Graph+", want "+Plan {
		t.Errorf("Mismatch = %q, %v", m, ok)
	}
	if _, ok := Mismatch([]byte("[[]]"), Plan); ok {
		t.Error("a plan mismatches a plan")
	}
}

// A plan or a graph whose bytes 257 to 262 spell "ustar" (a store path
// named ...-custard-1.0 there) is JSON, not a tar: only a header whose
// checksum holds is one. It was refused, "got a tar archive, want a layer
// plan".
func TestKindUstarInsideJSON(t *testing.T) {
	for _, c := range []struct{ open, want string }{{`[["`, Plan}, {`[{"path":"`, Graph}} {
		doc := []byte(c.open + "/nix/store/" + strings.Repeat("a", 32) + "-")
		doc = append(doc, strings.Repeat("x", 257-len(doc))+`ustar-1.0"`...)
		doc = append(doc, strings.Repeat(" ", Len)...)
		if got := Kind(doc); got != c.want {
			t.Errorf("Kind(%.12q...) = %q, want %q", doc, got, c.want)
		}
	}
	// A header whose checksum is wrong is no tar either; one whose
	// checksum holds still is.
	h := tarOf(t, "etc/passwd")
	h[0] ^= 1
	if got := Kind(h); got != "" {
		t.Errorf("Kind(a header with a bad checksum) = %q, want \"\"", got)
	}
}
