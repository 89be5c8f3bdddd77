package compress

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// sample is 3 MiB of half-compressible deterministic bytes: more than
// one zstd block and several deflate windows.
func sample() []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 3<<20)
	for i := range b {
		if i%2 == 0 {
			b[i] = byte(r.IntN(256))
		} else {
			b[i] = byte(i / 4096)
		}
	}
	return b
}

func compressChunked(t *testing.T, kind Kind, data []byte, chunk int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, kind)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		if _, err := w.Write(data[off:end]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriterIsDeterministic(t *testing.T) {
	data := sample()
	for _, kind := range []Kind{None, Gzip, Zstd} {
		t.Run(string(kind), func(t *testing.T) {
			first := compressChunked(t, kind, data, len(data))
			for _, chunk := range []int{1 << 20, 4096, 777} {
				if got := compressChunked(t, kind, data, chunk); !bytes.Equal(got, first) {
					t.Errorf("writes of %d bytes give other bytes than one write", chunk)
				}
			}
			if Detect(first) != kind {
				t.Errorf("Detect says %s", Detect(first))
			}
			r, err := Decompress(bytes.NewReader(first), kind)
			if err != nil {
				t.Fatal(err)
			}
			back, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(back, data) {
				t.Fatalf("round trip: %v, equal=%v", err, bytes.Equal(back, data))
			}
		})
	}
}

// TestZstdIndependentOfConcurrency: the machine's core count must not
// show in the bytes.
func TestZstdIndependentOfConcurrency(t *testing.T) {
	data := sample()
	ours := compressChunked(t, Zstd, data, 1<<16)
	for _, n := range []int{1, 4} {
		var buf bytes.Buffer
		zw, _ := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(n), zstd.WithEncoderCRC(true))
		zw.Write(data)
		zw.Close()
		if !bytes.Equal(buf.Bytes(), ours) {
			t.Errorf("concurrency %d gives other bytes", n)
		}
	}
}

func TestGzipHeaderHasNoNameOrTime(t *testing.T) {
	out := compressChunked(t, Gzip, []byte("x"), 1)
	zr, err := gzip.NewReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || zr.Comment != "" || zr.OS != 255 {
		t.Fatalf("gzip header: name %q comment %q mtime %v OS %d", zr.Name, zr.Comment, zr.ModTime, zr.OS)
	}
	// Bytes 4..7 are MTIME: zero.
	if !bytes.Equal(out[4:8], []byte{0, 0, 0, 0}) {
		t.Fatalf("MTIME field %x", out[4:8])
	}
}

// TestWriterGolden pins the bytes for this version of klauspost/compress:
// a change here means archives written before and after differ.
func TestWriterGolden(t *testing.T) {
	data := sample()
	for kind, want := range map[Kind]string{
		Gzip: "c31c98ecb22fd00e47a2f3bcc44cfc105eabac12e6ec1b3d4ddea0de86103a5d",
		Zstd: "9255d6dd33b3658255aadf7417172f2bf85c5e6313a09456479234eafb5a851b",
	} {
		sum := sha256.Sum256(compressChunked(t, kind, data, 1<<16))
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: sha256 %s, want %s", kind, got, want)
		}
	}
}

// TestKindUnmarshalText: a flag names what NewWriter writes, by nixpkgs'
// name or ours; what it only reads (xz, bzip2) is refused.
func TestKindUnmarshalText(t *testing.T) {
	for in, want := range map[string]Kind{"none": None, "gz": Gzip, "gzip": Gzip, "zstd": Zstd} {
		var got Kind
		if err := got.UnmarshalText([]byte(in)); err != nil || got != want {
			t.Errorf("UnmarshalText(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "xz", "bzip2", "GZ"} {
		var k Kind
		if err := k.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q) accepted", bad)
		}
	}
	if _, err := NewWriter(io.Discard, Xz); err == nil {
		t.Error("NewWriter(Xz) accepted")
	}
}
