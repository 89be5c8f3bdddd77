package compress_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"

	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/testkit"
)

// readXz decompresses in as the tools do (NewReader) and returns what it
// read, the error, and the bytes the process allocated meanwhile.
func readXz(t *testing.T, in []byte) ([]byte, error, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r, kind, err := compress.NewReader(bytes.NewReader(in))
	var got []byte
	if err == nil {
		got, err = io.ReadAll(r)
		r.Close()
	}
	runtime.ReadMemStats(&after)
	if kind != compress.Xz {
		t.Fatalf("detected %s, not xz", kind)
	}
	return got, err, after.TotalAlloc - before.TotalAlloc
}

// TestXzDictBound: a block declaring a dictionary above 128 MiB (the
// library allocates what a block declares, up to 4 GiB) is refused as too
// large, in the first block, a later block or a later stream, before the
// dictionary is allocated (the process allocates less than 16 MiB
// meanwhile); one of 128 MiB is read.
func TestXzDictBound(t *testing.T) {
	hello := testkit.XzBlock{Dict: 0, Data: []byte("hello")}
	for _, tc := range []struct {
		name string
		in   []byte
		fail bool
	}{
		{"128MiB", testkit.XzStream(1, testkit.XzBlock{Dict: 30, Data: []byte("hello")}), false},
		{"192MiB", testkit.XzStream(1, testkit.XzBlock{Dict: 31, Data: []byte("hello")}), true},
		{"FirstBlock4GiB", testkit.XzStream(1, testkit.XzBlock{Dict: 40, Data: []byte("hello")}), true},
		{"SecondBlock4GiB", testkit.XzStream(4, hello, testkit.XzBlock{Dict: 40, Data: []byte("bomb")}), true},
		{"SecondStream4GiB", append(testkit.XzStream(10, hello), testkit.XzStream(0, testkit.XzBlock{Dict: 40, Data: []byte("bomb")})...), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err, alloc := readXz(t, tc.in)
			switch {
			case tc.fail && (!errors.Is(err, errdefs.ErrTooLarge) || err.Error() != "an xz block needs a dictionary of more than 134217728 bytes: too large"):
				t.Fatalf("read %q, %v; want the dictionary refused", got, err)
			case tc.fail && alloc > 16<<20:
				t.Fatalf("allocated %d bytes while refusing the dictionary", alloc)
			case !tc.fail && (err != nil || string(got) != "hello"):
				t.Fatalf("read %q, %v", got, err)
			}
		})
	}
}

// TestXzManyBlocksAllocate: 100 blocks of one byte, each declaring a
// dictionary of 128 MiB, allocate less than 16 MiB, and 10 blocks of 2 MiB
// of zeros (LZMA, a few hundred bytes each) less than 128 MiB: a block's
// chunks declare what it decodes to, and a dictionary is allocated for
// that (the library allocated and zeroed 128 MiB for each, 20 ms, so
// that a layer of a megabyte of such blocks took twenty minutes). A
// block that decodes to more than the reader reads ahead of it still gets
// its own.
func TestXzManyBlocksAllocate(t *testing.T) {
	blocks := make([]testkit.XzBlock, 100)
	for i := range blocks {
		blocks[i] = testkit.XzBlock{Dict: 30, Data: []byte{byte(i)}}
	}
	got, err, alloc := readXz(t, testkit.XzStream(1, blocks...))
	if err != nil || len(got) != 100 || alloc > 16<<20 {
		t.Fatalf("read %d bytes, %v, allocating %d bytes", len(got), err, alloc)
	}
	var b bytes.Buffer
	w, err := lzma.Writer2Config{DictCap: lzma.MinDictCap}.NewWriter2(&b)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 2<<20)
	w.Write(zeros)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	blocks = blocks[:10]
	for i := range blocks {
		blocks[i] = testkit.XzBlock{Dict: 30, Data: zeros, LZMA2: b.Bytes()}
	}
	got, err, alloc = readXz(t, testkit.XzStream(1, blocks...))
	if err != nil || len(got) != 20<<20 || alloc > 128<<20 {
		t.Fatalf("read %d bytes, %v, allocating %d bytes (LZMA2 of %d bytes)", len(got), err, alloc, b.Len())
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16+1) // 1 MiB and 16 bytes
	got, err, _ = readXz(t, testkit.XzStream(1, testkit.XzBlock{Dict: 30, Data: big}))
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
}

// hiddenChunkXz is an xz stream of one block: an LZMA chunk of "hello"
// 100 times whose declared compressed bytes run on over hidden, which its
// decoder does not read, then after and the end marker; its check is that
// of hello and then extra, what the library decodes from the rest.
func hiddenChunkXz(t *testing.T, hidden, after, extra []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := lzma.Writer2Config{DictCap: lzma.MinDictCap}.NewWriter2(&b)
	if err != nil {
		t.Fatal(err)
	}
	hello := bytes.Repeat([]byte("hello"), 100)
	w.Write(hello)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	chunk := b.Bytes()[:b.Len()-1] // without the end marker
	if chunk[0] < 0xe0 || len(chunk) != 6+int(chunk[3])<<8+int(chunk[4])+1 {
		t.Fatalf("not one LZMA chunk with properties: % x", chunk)
	}
	packed := len(chunk) - 6 + len(hidden) - 1
	chunk[3], chunk[4] = byte(packed>>8), byte(packed)
	data := append(append(append(chunk, hidden...), after...), 0)
	return testkit.XzStream(1, testkit.XzBlock{Data: append(hello, extra...), LZMA2: data})
}

// TestXzHiddenChunk: an LZMA chunk that declares more compressed bytes
// than its decoder reads, hiding a chunk in the rest, is refused (xz
// refuses it; the library read the hidden chunk as the next one).
func TestXzHiddenChunk(t *testing.T) {
	hidden := append([]byte{2, 0, 4}, "EXTRA"...) // an uncompressed chunk
	in := hiddenChunkXz(t, hidden, nil, []byte("EXTRA"))
	if got, err := readInvalid(string(in)); err.Error() != "xz: an LZMA2 chunk's decoder stops before its declared compressed end: invalid input" {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
}

// TestXzHiddenChunkBalanced: a chunk hidden in the rest of an LZMA chunk
// whose bytes run over the next declared chunk, which declares what the
// hidden one decodes to, so the block's total is what its chunks declare,
// is refused too (xz refuses it: "Compressed data is corrupt").
func TestXzHiddenChunkBalanced(t *testing.T) {
	// The next declared chunk: LZMA, 6 bytes decoded from 1 byte; to the
	// decoder, the 6 bytes of data of the uncompressed chunk hidden at the
	// end of the first, whose header declares 6 bytes.
	next := []byte{0x80, 0, 5, 0, 0, 'X'}
	in := hiddenChunkXz(t, []byte{2, 0, 5}, next, next)
	if got, err := readInvalid(string(in)); err.Error() != "xz: an LZMA2 chunk's decoder stops before its declared compressed end: invalid input" {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	testkit.Need(t, "xz")
	cmd := exec.Command("xz", "-dc")
	cmd.Stdin = bytes.NewReader(in)
	if out, err := cmd.Output(); err == nil {
		t.Fatalf("xz read %d bytes of it", len(out))
	}
}

// TestXzCrafted: xz files that break the format are refused with one line
// wrapping errdefs.ErrInvalidInput.
func TestXzCrafted(t *testing.T) {
	hello, world := testkit.XzBlock{Data: []byte("hello")}, testkit.XzBlock{Data: []byte(", world")}
	good := testkit.XzStream(4, hello, world)
	flip := func(in []byte, off int) []byte {
		b := bytes.Clone(in)
		b[off] ^= 1
		return b
	}
	delta := bytes.Clone(testkit.XzStream(1, hello))
	copy(delta[12:20], []byte{2, 0, 0x03, 1, 0, 0, 0, 0}) // a delta filter
	binary.LittleEndian.PutUint32(delta[20:], crc32.ChecksumIEEE(delta[12:20]))
	cases := []struct {
		name, in string
		want     string
	}{
		{"WrongCheck", string(flip(good, 12+12+8+4)), "xz: block check mismatch: invalid input"},
		{"WrongSHA256", string(flip(testkit.XzStream(10, hello), 12+12+8+4+31)), "xz: block check mismatch: invalid input"},
		{"IndexSizeWrong", string(testkit.XzStream(1, hello, testkit.XzBlock{Data: []byte("!"), Lie: 1})), "xz: the index does not list the blocks the stream holds: invalid input"},
		{"IndexCountWrong", string(append(testkit.XzStream(1, hello)[:12+28], testkit.XzStream(1)[12:]...)), "xz: the index lists 0 blocks, the stream holds 1: invalid input"},
		{"IndexCRCWrong", string(flip(good, len(good)-12-1)), "xz: index CRC32 mismatch: invalid input"},
		{"FooterFlagsWrong", string(flip(good, len(good)-3)), "xz: stream footer CRC32 mismatch: invalid input"},
		{"StreamPaddingOdd", string(append(bytes.Clone(good), 0, 0)), "xz: stream padding is not a multiple of 4 bytes: invalid input"},
		{"TrailingGarbage", string(append(bytes.Clone(good), "garbage!garbage!"...)), "xz: no xz stream header: invalid input"},
		{"BlockHeaderCRC", string(flip(good, 12+4)), "xz: block header CRC32 mismatch: invalid input"},
		{"DeltaFilter", string(delta), "xz: a block has 1 filters, the first 0x3: only LZMA2 (0x21) alone is supported: invalid input"},
		{"CheckTypeUnknown", string(testkit.XzStream(2)), "xz: unsupported check type 2: invalid input"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := readInvalid(tc.in); err.Error() != tc.want {
				t.Fatalf("read %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if got, err, _ := readXz(t, append(append(bytes.Clone(good), 0, 0, 0, 0), good...)); err != nil || string(got) != "hello, worldhello, world" {
		t.Fatalf("the file the crafted ones break: %q, %v", got, err)
	}
}

// readInvalid reads the xz file in, and returns what it read and its
// error, or an error saying why that is not one line wrapping
// errdefs.ErrInvalidInput.
func readInvalid(in string) ([]byte, error) {
	var got []byte
	r, err := compress.Decompress(strings.NewReader(in), compress.Xz)
	if err == nil {
		got, err = io.ReadAll(r)
	}
	if err == nil || !errors.Is(err, errdefs.ErrInvalidInput) || strings.Contains(err.Error(), "\n") {
		return got, fmt.Errorf("not a one-line invalid input error: %v", err)
	}
	return got, err
}

// TestXzTruncated: an xz file cut anywhere is refused (the library read a
// file cut after a block, before the index, as a shorter one, without an
// error), with one line wrapping errdefs.ErrInvalidInput.
func TestXzTruncated(t *testing.T) {
	good := testkit.XzStream(4, testkit.XzBlock{Data: []byte("hello")}, testkit.XzBlock{Data: []byte(", world")})
	for i := 1; i < len(good); i++ {
		if got, err := readInvalid(string(good[:i])); strings.HasPrefix(err.Error(), "not ") {
			t.Errorf("cut after %d bytes: read %q, %v", i, got, err)
		}
	}
}

// TestXzSameAsLibrary: on valid xz files, written by the library and by
// xz itself (presets, check types, several blocks, concatenated streams,
// stream padding), the reader gives what the library's xz.Reader gives.
func TestXzSameAsLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 0, 3<<19)
	for len(data) < 3<<18 { // runs of text and of random bytes
		if rng.IntN(2) == 0 {
			data = append(data, bytes.Repeat([]byte("layer bytes "), rng.IntN(5000))...)
		} else {
			for range rng.IntN(50000) {
				data = append(data, byte(rng.Uint32()))
			}
		}
	}
	// Twice: a block of it decodes to more than the reader reads ahead
	// (1 MiB), with matches that far back.
	data = append(data, data...)
	inputs := map[string][]byte{}
	for name, c := range map[string]xz.WriterConfig{
		"crc32": {CheckSum: xz.CRC32}, "crc64": {CheckSum: xz.CRC64},
		"sha256": {CheckSum: xz.SHA256}, "none": {NoCheckSum: true},
		"blocks": {CheckSum: xz.CRC64, BlockSize: 100000, DictCap: 1 << 16},
	} {
		var b bytes.Buffer
		w, err := c.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data[:1<<18]) // its writer is slow
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		inputs["library "+name] = b.Bytes()
	}
	testkit.Need(t, "xz")
	xzCmd := func(args ...string) []byte {
		cmd := exec.Command("xz", append([]string{"-c", "-T1"}, args...)...)
		cmd.Stdin = bytes.NewReader(data)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("xz %s: %v", args, err)
		}
		return out
	}
	for _, args := range [][]string{
		{"-0"}, {"-6"}, {"-9"}, {"-9e"}, {"-1", "-C", "none"}, {"-1", "-C", "crc32"},
		{"-1", "-C", "sha256"}, {"-1", "--block-size=100000"}, {"-3", "--block-size=65536", "-C", "sha256"},
	} {
		inputs[fmt.Sprint("xz ", args)] = xzCmd(args...)
	}
	one, two := xzCmd("-1"), xzCmd("-2", "-C", "crc32", "--block-size=300000")
	inputs["concatenated"] = append(bytes.Clone(one), two...)
	inputs["stream padding"] = append(append(append(bytes.Clone(one), make([]byte, 8)...), two...), make([]byte, 4)...)
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			lr, err := xz.NewReader(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			want, err := io.ReadAll(lr)
			if err != nil {
				t.Fatalf("the library: %v", err)
			}
			got, err, _ := readXz(t, in)
			if err != nil || !bytes.Equal(got, want) || !bytes.HasPrefix(want, data[:1<<18]) {
				t.Fatalf("read %d bytes, %v; the library read %d", len(got), err, len(want))
			}
		})
	}
}

// FuzzXzReader: no input panics the reader or gives a multi-line error,
// every error is a format error or a refused dictionary, and what it reads
// in full is what the library reads.
func FuzzXzReader(f *testing.F) {
	f.Add(testkit.XzStream(1, testkit.XzBlock{Data: []byte("hello")}, testkit.XzBlock{Dict: 3, Data: []byte("world")}))
	f.Add(append(testkit.XzStream(10, testkit.XzBlock{Data: []byte("a")}), testkit.XzStream(0)...))
	var b bytes.Buffer
	w, _ := xz.WriterConfig{DictCap: 1 << 12, BlockSize: 100}.NewWriter(&b)
	w.Write(bytes.Repeat([]byte("fuzz me "), 100))
	w.Close()
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := compress.Decompress(bytes.NewReader(in), compress.Xz)
		var got []byte
		if err == nil {
			got, err = io.ReadAll(io.LimitReader(r, 16<<20))
		}
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !errors.Is(err, errdefs.ErrInvalidInput) && !errors.Is(err, errdefs.ErrTooLarge) {
				t.Fatalf("error %q", err)
			}
			return
		}
		if len(got) == 16<<20 {
			return
		}
		lr, err := xz.NewReader(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("the library refuses what was read: %v", err)
		}
		want, err := io.ReadAll(lr)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("read %q; the library read %q, %v", got, want, err)
		}
	})
}
