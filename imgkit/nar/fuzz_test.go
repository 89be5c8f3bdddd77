package nar_test

import (
	"testing"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/nar"
	"dockertools.dev/testkit"
)

// FuzzParseHash: what ParseHash accepts prints (FormatHash) as a hash that
// parses to the same bytes, and NormalizeHash of that is itself; anything
// refused is one line wrapping ErrInvalidInput.
func FuzzParseHash(f *testing.F) {
	for _, s := range []string{
		"sha256:1j6gl9w2y8g5fs5nhdk2vlrkflr2wmiavkw5sycn5ysccvx2jvlh",
		"sha256:906e29fa664cfb6299d785cfad62e522533733dd6236688b76e5212f78a2cfc8",
		"sha256-kG4p+mZM+2KZ14XPrWLlIlM3M91iNmiLduUhL3iiz8g=",
		"sha256:x", "sha512-AAAA", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sum, err := nar.ParseHash(s)
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput)
			return
		}
		printed := nar.FormatHash(sum)
		back, err := nar.ParseHash(printed)
		if err != nil || back != sum {
			t.Fatalf("%q parsed to %x, printed %s, which parses to %x (%v)", s, sum, printed, back, err)
		}
		if n, err := nar.NormalizeHash(printed); n != printed || err != nil {
			t.Fatalf("NormalizeHash(%s) = %s, %v", printed, n, err)
		}
	})
}

// FuzzDecodeBase32: what DecodeBase32 accepts encodes back to the same
// string (Nix's base32 has one spelling per value: the bits past the
// bytes must be zero).
func FuzzDecodeBase32(f *testing.F) {
	f.Add("0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73", 32)
	f.Add("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 20)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 1 || n > 64 {
			return
		}
		b, err := nar.DecodeBase32(s, n)
		if err != nil {
			return
		}
		if back := nar.EncodeBase32(b); back != s {
			t.Fatalf("%q decoded to %x, which encodes as %q", s, b, back)
		}
	})
}
