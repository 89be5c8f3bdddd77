package compress

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"

	"github.com/ulikunitz/xz/lzma"

	"dockertools.dev/imgkit/errdefs"
)

// MaxXzDict is the largest LZMA2 dictionary an xz block may declare (the
// history its decoder holds in memory): 128 MiB, as MaxZstdWindow. xz -9
// and -9e, its largest presets, write 64 MiB; more takes an explicit
// --lzma2=dict=. The xz library allocates whatever a block header
// declares, up to 4 GiB per block, so a layer of a few kilobytes could
// make a reader hold gigabytes; NewXzReader checks every block first.
const MaxXzDict = 128 << 20

// NewXzReader returns a reader of the xz streams of r (concatenated, with
// stream padding between them, as xz writes and reads them), following
// the xz file format 1.0.4: it reads the container itself — stream
// headers, block headers, block padding, checks (CRC32, CRC64, SHA-256,
// verified), indexes and footers (verified against the blocks read) — and
// decodes each block's LZMA2 data with the library's lzma.Reader2, given
// the dictionary the block declares once it is at most MaxXzDict (or, for
// a block whose LZMA2 chunks, read ahead, decode to less, that much). A
// larger one is refused with an error wrapping errdefs.ErrTooLarge before
// anything is allocated for it; filters other than LZMA2 alone (BCJ,
// delta), which the library does not decode either, are refused as
// errdefs.ErrInvalidInput. Close does not close r.
func NewXzReader(r io.Reader) (io.ReadCloser, error) {
	br, ok := r.(io.ByteReader)
	if !ok {
		b := bufio.NewReader(r)
		r, br = b, b
	}
	x := &xzReader{in: &xzInput{r: r, br: br}}
	var h [xzHeaderLen]byte
	if _, err := io.ReadFull(x.in, h[:]); err != nil {
		return nil, x.fail(err)
	}
	if err := x.streamHeader(h[:]); err != nil {
		return nil, err
	}
	return x, nil
}

// xzHeaderLen is the length of a stream header and of a stream footer.
const xzHeaderLen = 12

var (
	xzMagic       = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	xzFooterMagic = []byte{'Y', 'Z'}
	crc64Table    = crc64.MakeTable(crc64.ECMA)
)

type xzReader struct {
	in  *xzInput
	err error // sticky: io.EOF after the last stream

	// The stream being read: its flags, check, and a digest of the
	// records (unpadded and uncompressed sizes) of the blocks read, to
	// compare with its index in constant memory, as xz does.
	flags   [2]byte
	check   func() hash.Hash
	records hash.Hash
	blocks  uint64

	// The block being read: where it starts, its header's length and the
	// sizes the header declares (-1 for none), where its LZMA2 data
	// starts, its decoder, and its check over the bytes decoded.
	start, headerLen, csize, usize, dataStart int64
	block                                     io.Reader
	sum                                       hash.Hash
	decoded                                   int64

	// The block's LZMA2 chunks, and those read ahead of its decoder.
	chunks lzma2Chunks
	ahead  []byte
}

// xzInput counts the bytes read from the xz file and keeps the error
// reading it, to tell it from a format error, and to return it again
// (bufio.Reader returns an error once, then reads on).
type xzInput struct {
	r   io.Reader
	br  io.ByteReader
	n   int64
	err error
}

func (in *xzInput) Read(p []byte) (int, error) {
	if in.err != nil {
		return 0, in.err
	}
	n, err := in.r.Read(p)
	in.n += int64(n)
	in.keep(err)
	return n, err
}

func (in *xzInput) ReadByte() (byte, error) {
	if in.err != nil {
		return 0, in.err
	}
	b, err := in.br.ReadByte()
	if err == nil {
		in.n++
	}
	in.keep(err)
	return b, err
}

func (in *xzInput) keep(err error) {
	if err != nil && err != io.EOF && in.err == nil {
		in.err = err
	}
}

// fail returns the error for err, met while reading the container or the
// LZMA2 data: the input's own read error as it is, else a format error
// ("xz: cause"; a file that ends early is "unexpected EOF").
func (x *xzReader) fail(err error) error {
	if x.in.err != nil {
		return x.in.err
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("xz: %v: %w", err, errdefs.ErrInvalidInput)
}

func (x *xzReader) invalid(format string, args ...any) error {
	return x.fail(fmt.Errorf(format, args...))
}

func (x *xzReader) Close() error { return nil }

func (x *xzReader) Read(p []byte) (int, error) {
	for x.err == nil {
		if x.block == nil {
			x.err = x.nextBlock()
			continue
		}
		// The decoder is given to decode at most the rest of the chunk it
		// is in; once it has decoded all its chunks declare, it must have
		// read all their bytes (xz refuses a chunk whose decoder stops
		// before its compressed end; the library would read the rest as
		// further chunks), and is given one byte to start the next chunk.
		// (The library's decoder gives a chunk's last bytes only once it
		// has read the chunk to its end: the range decoder reads ahead.)
		// So it never decodes more than the chunks declare, which the
		// dictionary of a block read ahead is made for.
		given := &x.chunks.given
		rest := given.size - x.decoded
		if rest == 0 && !given.boundary() {
			x.err = x.invalid("an LZMA2 chunk's decoder stops before its declared compressed end")
			break
		}
		q := p[:min(int64(len(p)), max(rest, 1))]
		n, err := x.block.Read(q)
		x.sum.Write(q[:n])
		x.decoded += int64(n)
		switch {
		case x.usize >= 0 && x.decoded > x.usize:
			err = x.invalid("a block decodes to more than the %d bytes its header declares", x.usize)
		case err == io.EOF:
			err = x.endBlock()
		case err != nil:
			err = x.fail(err)
		}
		x.err = err
		if n > 0 || len(p) == 0 {
			return n, nil
		}
	}
	return 0, x.err
}

// streamHeader reads the stream header h: magic, flags, their CRC32.
func (x *xzReader) streamHeader(h []byte) error {
	if !bytes.Equal(h[:6], xzMagic) {
		return x.invalid("no xz stream header")
	}
	if crc32.ChecksumIEEE(h[6:8]) != binary.LittleEndian.Uint32(h[8:]) {
		return x.invalid("stream header CRC32 mismatch")
	}
	if h[6] != 0 || h[7]&0xf0 != 0 {
		return x.invalid("unsupported stream flags %#x %#x", h[6], h[7])
	}
	switch h[7] {
	case 0x00:
		x.check = func() hash.Hash { return nopHash{} }
	case 0x01:
		x.check = func() hash.Hash { return crc32.NewIEEE() }
	case 0x04:
		x.check = func() hash.Hash { return crc64.New(crc64Table) }
	case 0x0a:
		x.check = sha256.New
	default:
		return x.invalid("unsupported check type %d", h[7])
	}
	x.flags = [2]byte(h[6:8])
	x.records, x.blocks = sha256.New(), 0
	return nil
}

// nextBlock reads the next block header and starts decoding the block, or
// reads the index, the stream footer, stream padding and the next stream
// header, and returns io.EOF after the last stream.
func (x *xzReader) nextBlock() error {
	x.start = x.in.n
	size, err := x.in.ReadByte()
	if err != nil {
		return x.fail(err)
	}
	if size == 0 {
		return x.endStream()
	}
	h := make([]byte, (int(size)+1)*4)
	h[0] = size
	if _, err := io.ReadFull(x.in, h[1:]); err != nil {
		return x.fail(err)
	}
	crc := len(h) - 4
	if crc32.ChecksumIEEE(h[:crc]) != binary.LittleEndian.Uint32(h[crc:]) {
		return x.invalid("block header CRC32 mismatch")
	}
	flags, p := h[1], h[2:crc]
	if flags&0x3c != 0 {
		return x.invalid("unsupported block flags %#x", flags)
	}
	x.csize, x.usize = -1, -1
	hr := bytes.NewReader(p)
	if flags&0x40 != 0 {
		if x.csize, err = xzVLI(hr); err == nil && x.csize == 0 {
			err = errors.New("a block declares no compressed bytes")
		}
	}
	if err == nil && flags&0x80 != 0 {
		x.usize, err = xzVLI(hr)
	}
	var id, props int64
	if err == nil {
		id, err = xzVLI(hr)
	}
	if err == nil {
		props, err = xzVLI(hr)
	}
	if err != nil {
		return x.invalid("block header: %v", err)
	}
	p = p[len(p)-hr.Len():]
	if filters := flags&3 + 1; filters != 1 || id != 0x21 {
		return x.invalid("a block has %d filters, the first %#x: only LZMA2 (0x21) alone is supported", filters, id)
	}
	if props != 1 || len(p) == 0 || p[0] > 40 {
		return x.invalid("block header: bad LZMA2 properties")
	}
	if !allZero(p[1:]) {
		return x.invalid("block header: non-zero padding")
	}
	dict, _ := lzma.DecodeDictCap(p[0])
	if dict > MaxXzDict {
		return fmt.Errorf("an xz block needs a dictionary of more than %d bytes: %w", MaxXzDict, errdefs.ErrTooLarge)
	}
	x.headerLen, x.dataStart, x.decoded = int64(len(h)), x.in.n, 0
	var data io.Reader = x.in
	if x.csize >= 0 {
		data = io.LimitReader(x.in, x.csize)
	}
	// The dictionary is allocated whole, and zeroed, for each block: a
	// block of 20 bytes declaring 128 MiB took 20 ms, so a layer of a
	// megabyte of them took twenty minutes. What the block's chunks
	// declare they decode to, read ahead, is enough when they are all of
	// it: the declared dictionary is allocated only for a block that
	// declares more than xzAheadSize or has more than xzAheadBytes, where
	// the dictionary costs little beside decoding that much.
	x.chunks = lzma2Chunks{r: data}
	bounded := x.chunks.readAhead(x.ahead[:0])
	if x.in.err != nil {
		return x.in.err
	}
	if bounded {
		dict = min(dict, max(x.chunks.seen.size, lzma.MinDictCap))
	}
	x.ahead = x.chunks.ahead
	// Reader2 reads its chunks' headers and bytes exactly (ReadFull,
	// LimitReader), never past the end marker, so the container goes on
	// where it stops.
	lr, err := lzma.Reader2Config{DictCap: int(dict)}.NewReader2(&x.chunks)
	if err != nil {
		return x.fail(err)
	}
	x.block, x.sum = lr, x.check()
	return nil
}

// endBlock reads the block padding and check after the LZMA2 end marker,
// and checks the sizes the header declares.
func (x *xzReader) endBlock() error {
	compressed := x.in.n - x.dataStart
	if x.csize >= 0 && compressed != x.csize || x.usize >= 0 && x.decoded != x.usize {
		return x.invalid("a block's sizes are not those its header declares")
	}
	if !x.chunks.given.end || x.decoded != x.chunks.given.size {
		return x.invalid("a block's LZMA2 chunks do not end where its decoder does")
	}
	if err := x.zeros(x.in, "block padding"); err != nil {
		return err
	}
	want := x.sum.Sum(nil)
	if len(want) == 4 || len(want) == 8 { // CRC32, CRC64: stored little-endian
		for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
			want[i], want[j] = want[j], want[i]
		}
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(x.in, got); err != nil {
		return x.fail(err)
	}
	if !bytes.Equal(got, want) {
		return x.invalid("block check mismatch")
	}
	x.record(x.headerLen+compressed+int64(len(want)), x.decoded)
	x.blocks++
	x.block, x.sum = nil, nil
	return nil
}

// record adds a block's unpadded and uncompressed sizes to x.records.
func (x *xzReader) record(unpadded, uncompressed int64) {
	x.records.Write(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, uint64(unpadded)), uint64(uncompressed)))
}

// zeros reads from r the zero bytes that pad what started at x.start to
// a multiple of four bytes.
func (x *xzReader) zeros(r io.ByteReader, what string) error {
	for (x.in.n-x.start)%4 != 0 {
		b, err := r.ReadByte()
		if err != nil {
			return x.fail(err)
		}
		if b != 0 {
			return x.invalid("non-zero %s", what)
		}
	}
	return nil
}

// endStream reads the index (its indicator already read), checks it
// against the blocks read, then the stream footer, stream padding and the
// next stream's header; io.EOF after the last stream.
func (x *xzReader) endStream() error {
	blocks, records := x.blocks, x.records
	x.records = sha256.New()
	crc := crc32.NewIEEE()
	crc.Write([]byte{0})
	in := crcReader{x.in, crc}
	n, err := xzVLI(in)
	if err != nil {
		return x.fail(err)
	}
	if uint64(n) != blocks {
		return x.invalid("the index lists %d blocks, the stream holds %d", n, blocks)
	}
	for range blocks {
		unpadded, err := xzVLI(in)
		if err != nil {
			return x.fail(err)
		}
		uncompressed, err := xzVLI(in)
		if err != nil {
			return x.fail(err)
		}
		x.record(unpadded, uncompressed)
	}
	if !bytes.Equal(x.records.Sum(nil), records.Sum(nil)) {
		return x.invalid("the index does not list the blocks the stream holds")
	}
	if err := x.zeros(in, "index padding"); err != nil {
		return err
	}
	var f [4 + xzHeaderLen]byte // the index's CRC32, then the footer
	if _, err := io.ReadFull(x.in, f[:]); err != nil {
		return x.fail(err)
	}
	indexSize := x.in.n - xzHeaderLen - x.start
	switch {
	case crc.Sum32() != binary.LittleEndian.Uint32(f[:4]):
		return x.invalid("index CRC32 mismatch")
	case crc32.ChecksumIEEE(f[8:14]) != binary.LittleEndian.Uint32(f[4:8]):
		return x.invalid("stream footer CRC32 mismatch")
	case (int64(binary.LittleEndian.Uint32(f[8:12]))+1)*4 != indexSize:
		return x.invalid("the stream footer's index size is wrong")
	case [2]byte(f[12:14]) != x.flags || !bytes.Equal(f[14:], xzFooterMagic):
		return x.invalid("stream footer does not match its header")
	}
	return x.nextStream()
}

// nextStream reads stream padding (groups of four zero bytes) and the
// next stream's header; io.EOF at the end of the input.
func (x *xzReader) nextStream() error {
	var h [xzHeaderLen]byte
	for {
		n, err := io.ReadFull(x.in, h[:4])
		if n == 0 && err == io.EOF && x.in.err == nil {
			return io.EOF
		}
		if err != nil {
			return x.fail(errors.New("stream padding is not a multiple of 4 bytes"))
		}
		if !allZero(h[:4]) {
			break
		}
	}
	if _, err := io.ReadFull(x.in, h[4:]); err != nil {
		return x.fail(err)
	}
	return x.streamHeader(h[:])
}

// crcReader reads bytes of the index, adding them to its CRC32.
type crcReader struct {
	in  *xzInput
	crc hash.Hash32
}

func (r crcReader) ReadByte() (byte, error) {
	b, err := r.in.ReadByte()
	if err == nil {
		r.crc.Write([]byte{b})
	}
	return b, err
}

// xzVLI reads a variable-length integer (xz file format, 1.2: up to 9
// bytes of 7 bits, least significant first, in its shortest form).
func xzVLI(r io.ByteReader) (int64, error) {
	var v uint64
	for i := 0; i < 9; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			if b == 0 && i > 0 {
				break
			}
			return int64(v), nil
		}
	}
	return 0, errors.New("an integer is not in its shortest form of at most 9 bytes")
}

func allZero(p []byte) bool {
	for _, b := range p {
		if b != 0 {
			return false
		}
	}
	return true
}

// nopHash is the check of a stream without one (check type None).
type nopHash struct{}

func (nopHash) Write(p []byte) (int, error) { return len(p), nil }
func (nopHash) Sum(b []byte) []byte         { return b }
func (nopHash) Reset()                      {}
func (nopHash) Size() int                   { return 0 }
func (nopHash) BlockSize() int              { return 1 }
