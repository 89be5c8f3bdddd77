package nixhash

import (
	"crypto/sha256"
	"errors"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// The empty string's SHA-256 in every form Nix writes it, as `nix hash
// to-base32`, `to-base16`, `to-base64` and `to-sri` print it.
const (
	emptyBase32 = "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"
	emptyBase16 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	emptyBase64 = "sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	emptySRI    = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
)

func TestFormats(t *testing.T) {
	d := Digest(sha256.Sum256(nil))
	if got := d.String(); got != emptySRI {
		t.Errorf("String() = %s, want %s", got, emptySRI)
	}
	if got := d.Base32(); got != emptyBase32 {
		t.Errorf("Base32() = %s, want %s", got, emptyBase32)
	}
	if got := d.Base16(); got != emptyBase16 {
		t.Errorf("Base16() = %s, want %s", got, emptyBase16)
	}
}

func TestParse(t *testing.T) {
	want := Digest(sha256.Sum256(nil))
	for _, s := range []string{emptyBase32, emptyBase16, emptyBase64, emptySRI} {
		got, err := Parse(s)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %x, %v; want %x", s, got, err, want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for i := range 256 {
		d := Digest(sha256.Sum256([]byte{byte(i)}))
		for _, s := range []string{d.String(), d.Base32(), d.Base16()} {
			if got, err := Parse(s); err != nil || got != d {
				t.Fatalf("Parse(%q) = %x, %v; want %x", s, got, err, d)
			}
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for name, s := range map[string]string{
		"no algorithm":     "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73",
		"sha1":             "sha1:2jmj7l5rsw0yvb3ltdrmmq6wj1al3vm8",
		"short":            "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c7",
		"letter e":         "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c7e",
		"bits past 256":    "sha256:zmdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73",
		"bad hex":          "sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"bad sri":          "sha256-47DEQpj8HBSa",
		"empty":            "",
		"base64 too short": "sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF==",
	} {
		if _, err := Parse(s); !errors.Is(err, errdefs.ErrInvalidInput) {
			t.Errorf("%s: Parse(%q) = %v, want ErrInvalidInput", name, s, err)
		}
	}
}
