package tarsafe

import (
	"archive/tar"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarw"
)

// archive/tar reads sparse files but keeps their maps to itself, and its
// Reader returns every hole as zeros: a 30 KB layer holding a sparse
// 1 TiB file reads as 1 TiB. So the map is read here again, from the
// header blocks archive/tar has just parsed, in each of the formats
// archive/tar accepts, with the same rules:
//
//   - old GNU ('S' type flag): four entries in the header, then extension
//     blocks of 21 while the "is extended" byte is set; the size field is
//     the stored bytes;
//   - PAX 0.0 and 0.1: the records GNU.sparse.offset/numbytes (which
//     archive/tar turns into GNU.sparse.map) or GNU.sparse.map;
//   - PAX 1.0 (GNU.sparse.major=1, minor=0): the map at the start of the
//     data, decimal numbers, one per line, padded to a block.
//
// A map is trusted only as far as archive/tar checked it: it must also
// account for exactly the bytes the entry stores, or the entries after it
// would be read from the wrong place.

const blockSize = 512

// Offsets in an old GNU sparse header and its extension blocks.
const (
	gnuSparseOff      = 386 // 4 entries of offset[12], length[12]
	gnuIsExtendedOff  = 482
	gnuSparseEntries  = 4
	extIsExtendedOff  = 504 // after 21 entries
	extSparseEntries  = 21
	sparseEntryLen    = 24
	typeflagOff       = 156
	sizeOff, sizeLen  = 124, 12
	gnuMagicOff       = 257
	gnuMagic          = "ustar  \x00"
	paxSparseMajor    = "GNU.sparse.major"
	paxSparseMinor    = "GNU.sparse.minor"
	paxSparseMap      = "GNU.sparse.map"
	paxSparseNumBlock = "GNU.sparse.numblocks"
)

// sparseMap returns the data fragments of hdr when it is a sparse file,
// and the number of data bytes it stores after its headers (and, for PAX
// 1.0, its map). raw holds the entry's header blocks as stored, from its
// first one up to its data; nil fragments and ok false mean hdr is not
// sparse.
func sparseMap(hdr *tar.Header, raw []byte) (frags []tarw.Fragment, stored int64, ok bool, err error) {
	kind := sparseKind(hdr)
	if kind == "" {
		return nil, 0, false, nil
	}
	bad := func(format string, args ...any) error {
		return invalid(hdr, "sparse file (%s): %s", kind, fmt.Sprintf(format, args...))
	}
	final, err := lastHeader(raw)
	if err != nil {
		return nil, 0, true, bad("%v", err)
	}
	stored, err = parseNumeric(raw[final+sizeOff : final+sizeOff+sizeLen])
	if v, has := hdr.PAXRecords["size"]; has {
		stored, err = strconv.ParseInt(v, 10, 64)
	}
	if err != nil {
		return nil, 0, true, bad("bad size field")
	}
	after := final + blockSize // where the map (1.0) or extension blocks (old GNU) start
	switch kind {
	case "GNU":
		frags, after, err = gnuMap(raw, final)
	case "PAX 1.0":
		frags, err = pax1Map(raw[after:])
		stored -= int64(len(raw) - after)
		after = len(raw)
	default:
		frags, err = pax0Map(hdr.PAXRecords)
	}
	switch {
	case err != nil:
		return nil, 0, true, bad("%v", err)
	case after != len(raw):
		return nil, 0, true, bad("its header blocks do not end where its data starts")
	}
	var end, sum int64
	for _, fr := range frags {
		if fr.Offset < end || fr.Length < 0 || fr.Length > hdr.Size-fr.Offset {
			return nil, 0, true, bad("fragment %d+%d out of order or past the size %d", fr.Offset, fr.Length, hdr.Size)
		}
		end = fr.Offset + fr.Length
		sum += fr.Length
	}
	if sum != stored {
		return nil, 0, true, bad("its map holds %d bytes of data, but it stores %d", sum, stored)
	}
	return frags, stored, true, nil
}

// sparseKind names the sparse format of hdr as archive/tar recognises it,
// or "" for a file that is not sparse.
func sparseKind(hdr *tar.Header) string {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return "GNU"
	}
	major, minor := hdr.PAXRecords[paxSparseMajor], hdr.PAXRecords[paxSparseMinor]
	switch {
	case major == "0" && (minor == "0" || minor == "1"):
		return "PAX 0." + minor
	case major == "1" && minor == "0":
		return "PAX 1.0"
	case major != "" || minor != "":
		return "" // a version archive/tar does not know: a plain file
	case hdr.PAXRecords[paxSparseMap] != "":
		return "PAX 0.x"
	}
	return ""
}

// lastHeader returns the offset in raw of the header block of the entry
// itself, after its PAX and GNU long name/link headers.
func lastHeader(raw []byte) (int, error) {
	off := 0
	for {
		if len(raw)-off < blockSize {
			return 0, fmt.Errorf("its header blocks are cut short")
		}
		switch raw[off+typeflagOff] {
		case tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
			n, err := parseNumeric(raw[off+sizeOff : off+sizeOff+sizeLen])
			if err != nil || n < 0 || n > int64(len(raw)) {
				return 0, fmt.Errorf("bad size of an extended header")
			}
			off += blockSize + int(tarw.DataLen(n))
		default:
			return off, nil
		}
	}
}

// gnuMap reads an old GNU sparse map from the header at raw[final:] and
// its extension blocks; next is the offset after the last block.
func gnuMap(raw []byte, final int) (frags []tarw.Fragment, next int, err error) {
	if string(raw[final+gnuMagicOff:final+gnuMagicOff+len(gnuMagic)]) != gnuMagic {
		return nil, 0, fmt.Errorf("not a GNU header")
	}
	area := raw[final+gnuSparseOff : final+gnuIsExtendedOff+1]
	entries, next := gnuSparseEntries, final+blockSize
	for {
		for i := 0; i < entries; i++ {
			e := area[i*sparseEntryLen : (i+1)*sparseEntryLen]
			if e[0] == 0 {
				break // as GNU tar, bsdtar and archive/tar end a block's list
			}
			off, err1 := parseNumeric(e[:12])
			n, err2 := parseNumeric(e[12:])
			if err1 != nil || err2 != nil {
				return nil, 0, fmt.Errorf("bad map entry")
			}
			frags = append(frags, tarw.Fragment{Offset: off, Length: n})
		}
		if area[len(area)-1] == 0 {
			return frags, next, nil
		}
		if len(raw)-next < blockSize {
			return nil, 0, fmt.Errorf("its extension blocks are cut short")
		}
		area = raw[next : next+extIsExtendedOff+1]
		entries, next = extSparseEntries, next+blockSize
	}
}

// pax1Map reads a PAX 1.0 map: a count, then offset and length of each
// fragment, one decimal number per line. Like archive/tar, it reads the
// numbers it needs and ignores the rest of their last block.
func pax1Map(m []byte) ([]tarw.Fragment, error) {
	next := func() (string, bool) {
		line, rest, ok := bytes.Cut(m, []byte{'\n'})
		m = rest
		return string(line), ok
	}
	count, ok := next()
	n, err := strconv.ParseInt(count, 10, 64)
	if !ok || err != nil || n < 0 || n > int64(len(m)/4) {
		return nil, fmt.Errorf("bad number of map entries %s", errdefs.Quote(count))
	}
	fields := make([]string, 0, 2*n)
	for i := int64(0); i < 2*n; i++ {
		f, ok := next()
		if !ok {
			return nil, fmt.Errorf("its map is cut short")
		}
		fields = append(fields, f)
	}
	return pairs(fields)
}

// pax0Map reads the map of PAX 0.0 and 0.1: "offset,length,…".
func pax0Map(recs map[string]string) ([]tarw.Fragment, error) {
	var fields []string
	if m := recs[paxSparseMap]; m != "" {
		fields = strings.Split(m, ",")
	}
	if n, err := strconv.ParseInt(recs[paxSparseNumBlock], 10, 64); err != nil || int64(len(fields)) != 2*n {
		return nil, fmt.Errorf("its map does not hold the number of entries it announces")
	}
	return pairs(fields)
}

func pairs(fields []string) ([]tarw.Fragment, error) {
	frags := make([]tarw.Fragment, 0, len(fields)/2)
	for i := 0; i+1 < len(fields); i += 2 {
		off, err1 := strconv.ParseInt(fields[i], 10, 64)
		n, err2 := strconv.ParseInt(fields[i+1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad map entry %s,%s", errdefs.Quote(fields[i]), errdefs.Quote(fields[i+1]))
		}
		frags = append(frags, tarw.Fragment{Offset: off, Length: n})
	}
	return frags, nil
}

// parseNumeric reads a tar number field as archive/tar does: base-256
// when its first bit is set, else octal padded with spaces or NULs.
func parseNumeric(b []byte) (int64, error) {
	if len(b) > 0 && b[0]&0x80 != 0 {
		if b[0]&0x40 != 0 {
			return 0, fmt.Errorf("negative number")
		}
		var x int64
		for i, c := range b {
			if i == 0 {
				c &= 0x7f
			}
			if x>>55 != 0 {
				return 0, fmt.Errorf("number overflows")
			}
			x = x<<8 | int64(c)
		}
		return x, nil
	}
	s := strings.Trim(string(b), " \x00")
	if s == "" {
		return 0, nil
	}
	return strconv.ParseInt(s, 8, 64)
}
