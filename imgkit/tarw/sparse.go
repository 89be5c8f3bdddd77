package tarw

import (
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Fragment is a run of a sparse file that holds data: Length bytes at
// Offset. The rest of the file is holes, which read as zeros.
type Fragment struct{ Offset, Length int64 }

// Sparse is what AppendSparse needs besides the Header: the fragments of
// the file that hold data, in order, each starting at a block (Align
// makes them so), and further PAX records (extended attributes,
// "SCHILY.xattr.NAME").
type Sparse struct {
	Data    []Fragment
	Records map[string]string
}

// Stored is the number of data bytes the entry holds: the fragments'
// lengths added up, holes left out.
func (s Sparse) Stored() int64 { return stored(s.Data) }

func stored(frags []Fragment) int64 {
	var n int64
	for _, f := range frags {
		n += f.Length
	}
	return n
}

// Align widens each fragment of a file of size bytes to whole blocks (the
// last one may end at size), merging fragments that then meet, and drops
// empty ones. GNU tar reads each fragment's data from the start of a block;
// Go's archive/tar, bsdtar and CPython take the data as one run: both
// readings agree on such maps only, which are the only ones GNU tar
// writes. The bytes the widening adds are holes, zeros (see Widen).
func Align(frags []Fragment, size int64) []Fragment {
	var out []Fragment
	for _, fr := range frags {
		if fr.Length <= 0 {
			continue
		}
		start := fr.Offset &^ (BlockSize - 1)
		end := min(DataLen(fr.Offset+fr.Length), size)
		if n := len(out); n > 0 && out[n-1].Offset+out[n-1].Length >= start {
			out[n-1].Length = end - out[n-1].Offset
			continue
		}
		out = append(out, Fragment{Offset: start, Length: end - start})
	}
	return out
}

// Widen returns a reader of the bytes of wide, Align's fragments for
// frags, given r, which holds the bytes of frags in order: what wide adds
// around them reads as zeros.
func Widen(frags, wide []Fragment, r io.Reader) io.Reader {
	var parts []io.Reader
	i := 0
	for _, w := range wide {
		pos, end := w.Offset, w.Offset+w.Length
		for ; i < len(frags) && frags[i].Offset < end; i++ {
			fr := frags[i]
			if fr.Length <= 0 {
				continue
			}
			parts = append(parts, zeros(fr.Offset-pos), io.LimitReader(r, fr.Length))
			pos = fr.Offset + fr.Length
		}
		parts = append(parts, zeros(end-pos))
	}
	return io.MultiReader(parts...)
}

func zeros(n int64) io.Reader { return io.LimitReader(zeroReader{}, n) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// sparseDir names the directory of a sparse entry's ustar name, as GNU tar
// names it ("%d/GNUSparseFile.%p/%f") with 0 for the process id, so that
// the bytes do not depend on the process.
const sparseDir = "GNUSparseFile.0"

// AppendSparse appends the header of a sparse file in GNU tar's PAX
// format 1.0, which GNU tar, bsdtar, Go's archive/tar and CPython's
// tarfile read: h is a regular file whose Size is its apparent size (holes
// counted), s.Data its fragments as Align gives them; a PAX header holds GNU.sparse.major=1, GNU.sparse.minor=0,
// GNU.sparse.name (h.Name) and GNU.sparse.realsize (h.Size), after
// s.Records sorted by key and before the records CPython would add; the
// ustar header is named "DIR/GNUSparseFile.0/BASE"; its data starts with
// the map (the number of fragments, then each one's offset and length, in
// decimal, one per line, NUL-padded to a block), which AppendSparse
// appends too. The caller then writes s.Stored() bytes, the fragments'
// data in order, and AppendPadding(s.Stored()).
//
// The map ends at Size: when the last fragment does not, an empty one at
// Size is added, as GNU tar does, so readers that size the file from the
// map get it right. Empty fragments before it are left out. Only the
// Python format writes sparse files.
func (f Format) AppendSparse(dst []byte, h *Header, s Sparse) ([]byte, error) {
	if f.kind != kindPython {
		return dst, fmt.Errorf("%q: sparse files are written in the PAX (python) format only: %w", h.Name, ErrHeader)
	}
	if err := h.check(); err != nil {
		return dst, err
	}
	if h.Type != TypeReg {
		return dst, fmt.Errorf("%q: a sparse entry of type %q: %w", h.Name, h.Type, ErrHeader)
	}
	data, err := sparseData(h, s.Data)
	if err != nil {
		return dst, err
	}
	extra, err := sparseRecords(h, s.Records)
	if err != nil {
		return dst, err
	}
	m := appendSparseMap(nil, data)
	stored := *h
	dir, base := path.Split(h.name())
	stored.Name = dir + sparseDir + "/" + base
	stored.Size = int64(len(m)) + s.Stored()
	dst, err = appendPAXHeader(dst, &stored, extra)
	if err != nil {
		return dst, err
	}
	return append(dst, m...), nil
}

// sparseData checks the fragments (in order, not overlapping, inside the
// file, starting at a block and ending at one or at the size) and returns
// them as the map lists them.
func sparseData(h *Header, frags []Fragment) ([]Fragment, error) {
	out := make([]Fragment, 0, len(frags)+1)
	var end int64
	for _, fr := range frags {
		if fr.Offset < end || fr.Length < 0 || fr.Length > h.Size-fr.Offset {
			return nil, fmt.Errorf("%q: fragment %d+%d out of order or past the size %d: %w", h.Name, fr.Offset, fr.Length, h.Size, ErrHeader)
		}
		if fr.Offset%BlockSize != 0 || (fr.Length%BlockSize != 0 && fr.Offset+fr.Length != h.Size) {
			return nil, fmt.Errorf("%q: fragment %d+%d is not aligned to blocks (see Align): %w", h.Name, fr.Offset, fr.Length, ErrHeader)
		}
		if fr.Length > 0 {
			out = append(out, fr)
			end = fr.Offset + fr.Length
		}
	}
	if len(out) == 0 || end != h.Size {
		out = append(out, Fragment{Offset: h.Size})
	}
	return out, nil
}

// sparseRecords returns the GNU.sparse records and the caller's, sorted;
// the caller's may not be ones the writer makes.
func sparseRecords(h *Header, records map[string]string) ([]paxRecord, error) {
	out := []paxRecord{
		{key: "GNU.sparse.major", num: 1, isNum: true},
		{key: "GNU.sparse.minor", num: 0, isNum: true},
		{key: "GNU.sparse.name", str: h.name()},
		{key: "GNU.sparse.realsize", num: h.Size, isNum: true},
	}
	keys := make([]string, 0, len(records))
	for k := range records {
		switch {
		case k == "" || strings.ContainsAny(k, "=\x00\n") || strings.HasPrefix(k, "GNU.sparse."):
			return nil, fmt.Errorf("%q: PAX record %q: %w", h.Name, k, ErrHeader)
		case k == "path" || k == "linkpath" || k == "uname" || k == "gname" || k == "uid" || k == "gid" || k == "size" || k == "mtime":
			return nil, fmt.Errorf("%q: PAX record %q comes from the header: %w", h.Name, k, ErrHeader)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, paxRecord{key: k, str: records[k]})
	}
	return out, nil
}

// appendSparseMap appends the PAX 1.0 map of data, padded to a block.
func appendSparseMap(dst []byte, data []Fragment) []byte {
	start := len(dst)
	dst = strconv.AppendInt(dst, int64(len(data)), 10)
	dst = append(dst, '\n')
	for _, fr := range data {
		dst = strconv.AppendInt(dst, fr.Offset, 10)
		dst = append(dst, '\n')
		dst = strconv.AppendInt(dst, fr.Length, 10)
		dst = append(dst, '\n')
	}
	return AppendPadding(dst, int64(len(dst)-start))
}
