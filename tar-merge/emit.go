package main

import (
	"archive/tar"
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/klauspost/compress/zstd"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarsafe"
	"dockertools.dev/imgkit/tarw"
)

// emitter is the second pass: it walks the tree in output order and copies
// each file's bytes from its layer.
type emitter struct {
	ctx context.Context
	tw  *tar.Writer
	// w is what tw writes to. Sparse files are written to it directly
	// (see sparse), between two entries of tw.
	w       io.Writer
	opts    tarsafe.Options
	sources []*layerSource
	written map[*inode]string // first output name of each shared inode
	buf     []byte
	hbuf    []byte // header blocks of a sparse file
}

// emitTree writes the tree as one tar: "./" first, then each directory's
// entries sorted by name (bytes), each directory followed by its contents;
// that is GNU tar --sort=name's order, and what nixpkgs' exportImage gives.
func (em *emitter) emitTree(t *tree) error {
	if err := em.entry("./", t.root.ino); err != nil {
		return err
	}
	return em.walk(t.root, "./")
}

func (em *emitter) walk(dir *node, prefix string) error {
	for _, name := range slices.Sorted(maps.Keys(dir.kids)) {
		n := dir.kids[name]
		out := prefix + name
		if n.ino.kind == tarsafe.Dir {
			out += "/"
		}
		if err := em.entry(out, n.ino); err != nil {
			return err
		}
		if n.ino.kind == tarsafe.Dir {
			if err := em.walk(n, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// entry writes one header and, for a file, its content. Every field comes
// from the layers (or fixed defaults): nothing from the environment.
func (em *emitter) entry(name string, ino *inode) error {
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(ino.mode),
		Uid:     ino.uid,
		Gid:     ino.gid,
		Uname:   ino.uname,
		Gname:   ino.gname,
		ModTime: time.Unix(ino.mtime, 0),
	}
	x := ino.extra
	if x == nil {
		x = &extra{}
	}
	hdr.Devmajor, hdr.Devminor = x.devmajor, x.devminor
	if x.xattrs != nil {
		hdr.PAXRecords = maps.Clone(x.xattrs)
	}
	if ino.shared {
		if first, ok := em.written[ino]; ok {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			return em.header(hdr)
		}
		em.written[ino] = name
	}
	switch ino.kind {
	case tarsafe.Dir:
		hdr.Typeflag = tar.TypeDir
	case tarsafe.Symlink:
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, x.link
	case tarsafe.Char:
		hdr.Typeflag = tar.TypeChar
	case tarsafe.Block:
		hdr.Typeflag = tar.TypeBlock
	case tarsafe.Fifo:
		hdr.Typeflag = tar.TypeFifo
	case tarsafe.Regular:
		hdr.Typeflag, hdr.Size = tar.TypeReg, ino.content.size
		if ino.content.sparse {
			return em.sparse(hdr, ino.content)
		}
		if err := em.header(hdr); err != nil {
			return err
		}
		return em.content(name, ino.content)
	}
	return em.header(hdr)
}

func (em *emitter) header(hdr *tar.Header) error {
	if err := em.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing %s: %w", errdefs.Quote(hdr.Name), err)
	}
	return nil
}

func (em *emitter) content(name string, loc location) error {
	src := em.sources[loc.layer]
	r, err := src.at(loc.dataOff)
	if err != nil {
		return fmt.Errorf("layer %d: reading %s again: %w", loc.layer+1, errdefs.Quote(name), err)
	}
	n, err := io.CopyBuffer(em.tw, io.LimitReader(cli.ContextReader(em.ctx, r), loc.size), em.buf)
	if err == nil && n < loc.size {
		err = fmt.Errorf("%d of %d bytes: %w", n, loc.size, errdefs.ErrChanged)
	}
	if err != nil {
		return fmt.Errorf("layer %d: reading %s again: %w", loc.layer+1, errdefs.Quote(name), err)
	}
	return nil
}

// sparse writes a file that its layer stored as sparse as a sparse entry
// too (GNU's PAX 1.0 format, tarw.AppendSparse): holes stay holes, so a
// small layer holding a file of a terabyte of holes stays small. The map
// is read again from the entry's headers; the fragments are widened to
// whole blocks (tarw.Align), as GNU tar needs. archive/tar's Writer drops
// GNU.sparse.* records (golang.org/issue/22735), so the entry's bytes go
// to em.w directly, after tw.Flush has padded the previous entry.
func (em *emitter) sparse(hdr *tar.Header, loc location) error {
	again := func(err error) error {
		return fmt.Errorf("layer %d: reading %s again: %w", loc.layer+1, errdefs.Quote(hdr.Name), err)
	}
	r, err := em.sources[loc.layer].at(loc.hdrOff)
	if err != nil {
		return again(err)
	}
	tr := tarsafe.NewReader(cli.ContextReader(em.ctx, r), em.opts)
	h, err := tr.Next()
	if err != nil {
		return again(err)
	}
	frags := tr.Sparse()
	if frags == nil || h.Size != loc.size {
		return again(errdefs.ErrChanged)
	}
	wide := tarw.Align(frags, loc.size)
	th := &tarw.Header{
		Name: hdr.Name, Type: tarw.TypeReg, Mode: hdr.Mode, Uid: int64(hdr.Uid), Gid: int64(hdr.Gid),
		Uname: hdr.Uname, Gname: hdr.Gname, Size: loc.size, Mtime: hdr.ModTime.Unix(),
	}
	sp := tarw.Sparse{Data: wide, Records: hdr.PAXRecords}
	em.hbuf, err = tarw.Python.AppendSparse(em.hbuf[:0], th, sp)
	if err != nil {
		return fmt.Errorf("writing %s: %w", errdefs.Quote(hdr.Name), err)
	}
	if err := em.tw.Flush(); err != nil {
		return fmt.Errorf("writing the output: %w", err)
	}
	if _, err := em.w.Write(em.hbuf); err != nil {
		return fmt.Errorf("writing the output: %w", err)
	}
	n, err := io.CopyBuffer(em.w, io.LimitReader(tarw.Widen(frags, wide, tr), sp.Stored()), em.buf)
	if err == nil && n < sp.Stored() {
		err = fmt.Errorf("%d of %d bytes: %w", n, sp.Stored(), errdefs.ErrChanged)
	}
	if err != nil {
		return again(err)
	}
	em.hbuf = tarw.AppendPadding(em.hbuf[:0], sp.Stored())
	if _, err := em.w.Write(em.hbuf); err != nil {
		return fmt.Errorf("writing the output: %w", err)
	}
	return nil
}

// layerSource reads entries' data back from one layer. A layer stored
// uncompressed is read in place at any offset. A compressed one is
// decompressed again, front to back; asking for an offset behind the
// current one restarts the decompression (counted in restarts). Layers
// list their files in the sorted order this tool writes them (docker,
// nixpkgs, GNU tar --sort=name and Go's filepath.Walk all do), so a
// restart is rare: a second decompression per layer is the usual cost.
//
// Decoders stay open between reads, within maxDecoderMemory (see
// decoders).
type layerSource struct {
	l        *archive.Layer
	kind     compress.Kind
	pool     *decoders
	dec      io.ReadCloser
	pos      int64
	started  bool
	restarts int
	mem      int64 // what the open decoder may hold; -1 until known
	used     int64 // when the decoder was last read, in pool.clock ticks
}

func newLayerSource(l *archive.Layer, pool *decoders) (*layerSource, error) {
	kind, err := l.Compression()
	return &layerSource{l: l, kind: kind, pool: pool, mem: -1}, err
}

// maxDecoderMemory bounds what the open decoders of pass two may hold: a
// zstd frame may declare a window of up to 128 MiB (compress.MaxZstdWindow),
// which its decoder fills as it decompresses that much, so the decoders
// of a hundred small layers held 13 GB at once. 1 GiB keeps the decoders
// of 128 layers of 8 MiB windows (the zstd of containerd and of zstd -19)
// open together, so real images are decompressed twice as before. On a
// 32-bit architecture (386, arm), whose heap must fit in less than 4 GiB
// of addresses with the garbage of closed decoders beside the open ones,
// 1 GiB ran the tool out of memory (TestFlattenDecoderMemory): there it is
// 256 MiB, two of the largest windows.
const maxDecoderMemory = 256<<20 + is64Bit*(768<<20)

// is64Bit is 1 on a 64-bit architecture, 0 on a 32-bit one.
const is64Bit = strconv.IntSize / 64

// decoders are the open decoders of pass two: when opening one would pass
// maxDecoderMemory, the least recently read are closed, and their layers
// decompressed again from the start when next read.
type decoders struct {
	open  []*layerSource
	total int64
	clock int64
}

// reserve makes room for s's decoder, and counts it.
func (d *decoders) reserve(s *layerSource) {
	for d.total+s.mem > maxDecoderMemory && len(d.open) > 0 {
		lru := d.open[0]
		for _, o := range d.open[1:] {
			if o.used < lru.used {
				lru = o
			}
		}
		lru.close()
	}
	d.open = append(d.open, s)
	d.total += s.mem
}

// release forgets s's decoder.
func (d *decoders) release(s *layerSource) {
	if i := slices.Index(d.open, s); i >= 0 {
		d.open = slices.Delete(d.open, i, i+1)
		d.total -= s.mem
	}
}

// at returns a reader positioned at offset off of the uncompressed
// layer.
func (s *layerSource) at(off int64) (io.Reader, error) {
	if s.kind == compress.None {
		stored := s.l.Stored()
		return io.NewSectionReader(stored, off, stored.Size()-off), nil
	}
	if s.dec == nil || off < s.pos {
		if s.started {
			s.restarts++
		}
		s.close()
		if err := s.start(); err != nil {
			return nil, err
		}
	}
	s.pool.clock++
	s.used = s.pool.clock
	if _, err := io.CopyN(io.Discard, s, off-s.pos); err != nil {
		return nil, err
	}
	return s, nil
}

// start begins decompressing the layer from its first byte. zstd gets a
// synchronous, low-memory decoder: every compressed layer may have one
// open at a time.
func (s *layerSource) start() error {
	if s.mem < 0 {
		st := s.l.Stored()
		s.mem = compress.DecoderMemory(s.kind, st, st.Size())
	}
	s.pool.reserve(s)
	stored := bufio.NewReaderSize(s.l.Stored(), 1<<16)
	s.pos, s.started = 0, true
	var dec io.ReadCloser
	var err error
	if s.kind == compress.Zstd {
		dec, err = compress.NewZstdReader(stored, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
	} else {
		dec, err = compress.Decompress(stored, s.kind)
	}
	if err != nil {
		s.pool.release(s)
		return err
	}
	s.dec = dec
	return nil
}

func (s *layerSource) Read(p []byte) (int, error) {
	n, err := s.dec.Read(p)
	s.pos += int64(n)
	return n, err
}

func (s *layerSource) close() {
	if s.dec != nil {
		s.dec.Close()
		s.dec = nil
		s.pool.release(s)
	}
}
