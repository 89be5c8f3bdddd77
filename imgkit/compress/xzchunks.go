package compress

import "io"

// xzAheadBytes bounds the LZMA2 data of a block read ahead of its decoder,
// xzAheadSize what those chunks declare they decode to: past either, the
// block gets the dictionary it declares (zeroing 128 MiB took 20 ms,
// decoding 16 MiB of zeros, 9 KiB of xz, 140 ms).
const (
	xzAheadBytes = 1 << 20
	xzAheadSize  = 16 << 20
)

// lzma2Chunks reads a block's LZMA2 chunks (xz file format, 5.3.1; their
// headers as lzma.Reader2 reads them) from r, never past their end
// marker, and follows them twice: as they are read (seen, read ahead of
// the decoder) and as they are given to the decoder (given). Read gives
// those read ahead first, and never more than the rest of the header or
// bytes of the chunk the decoder is in.
type lzma2Chunks struct {
	r           io.Reader
	ahead       []byte
	seen, given chunkState
}

// chunkState follows LZMA2 chunks over their bytes, taken in order.
type chunkState struct {
	header    [6]byte
	got, want int   // of the current chunk's header: read, and its length
	body      int64 // of the current chunk's bytes: left to read
	size      int64 // what the chunks taken declare they decode to
	end, done bool  // the end marker was taken; it or a refused header was
}

// limit is how many of n bytes belong to the current chunk's header or
// bytes.
func (s *chunkState) limit(n int) int {
	if s.body > 0 {
		return int(min(int64(n), s.body))
	}
	return min(n, max(s.want, 1)-s.got)
}

// take follows p, at most limit(len(p)) bytes.
func (s *chunkState) take(p []byte) {
	if s.body > 0 {
		s.body -= int64(len(p))
		return
	}
	s.want = max(s.want, 1)
	s.got += copy(s.header[s.got:s.want], p)
	if s.got == 1 && s.want == 1 {
		switch b := s.header[0]; {
		case b == 1 || b == 2: // uncompressed
			s.want = 3
		case b >= 0xc0: // LZMA, with properties
			s.want = 6
		case b >= 0x80: // LZMA
			s.want = 5
		default: // the end marker, or refused
			s.end, s.done = b == 0, true
		}
	}
	if s.got == s.want && s.want > 1 {
		h := s.header
		size := int64(h[1])<<8 | int64(h[2]) + 1
		s.body = size
		if h[0] >= 0x80 {
			size += int64(h[0]&0x1f) << 16
			s.body = int64(h[3])<<8 | int64(h[4]) + 1
		}
		s.size += size
		s.got, s.want = 0, 0
	}
}

// boundary reports whether s is between two chunks.
func (s *chunkState) boundary() bool { return s.body == 0 && s.got == 0 }

func (c *lzma2Chunks) Read(p []byte) (int, error) {
	if len(c.ahead) == 0 && c.given.body > 0 {
		// The decoder reads a chunk's bytes one at a time: with nothing
		// read ahead, what is given is what is seen.
		n, err := c.r.Read(p[:min(int64(len(p)), c.given.body)])
		c.given.body -= int64(n)
		c.seen.body -= int64(n)
		return n, err
	}
	if c.given.done {
		return 0, io.EOF
	}
	p = p[:c.given.limit(len(p))]
	var n int
	var err error
	if len(c.ahead) > 0 {
		n = copy(p, c.ahead)
		c.ahead = c.ahead[n:]
	} else {
		n, err = c.read(p)
	}
	c.given.take(p[:n])
	return n, err
}

func (c *lzma2Chunks) read(p []byte) (int, error) {
	if c.seen.done {
		return 0, io.EOF
	}
	n, err := c.r.Read(p[:c.seen.limit(len(p))])
	c.seen.take(p[:n])
	return n, err
}

// readAhead reads chunks into buf (c.ahead) until their end marker or a
// header the decoder refuses, or until they pass xzAheadBytes or what
// they decode to passes xzAheadSize. It returns whether what they decode
// to is all the block's decoder can decode (at the end marker, or where
// it stops).
func (c *lzma2Chunks) readAhead(buf []byte) bool {
	defer func() { c.ahead = buf }()
	for !c.seen.done && len(buf) <= xzAheadBytes && c.seen.size <= xzAheadSize {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := c.read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil { // a chunk cut short: the decoder stops there
			return true
		}
	}
	return c.seen.done
}
