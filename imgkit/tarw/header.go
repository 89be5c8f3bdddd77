package tarw

import (
	"errors"
	"fmt"
	"strings"
)

// Sizes of the tar units.
const (
	BlockSize  = 512
	RecordSize = 20 * BlockSize
)

// Entry types (the typeflag byte).
const (
	TypeReg     byte = '0'
	TypeLink    byte = '1' // a hardlink: Linkname names an earlier member
	TypeSymlink byte = '2'
	TypeChar    byte = '3'
	TypeBlock   byte = '4'
	TypeDir     byte = '5'
	TypeFifo    byte = '6'
)

// Header is the metadata of one entry.
type Header struct {
	Name     string // member name; a directory gets a trailing "/" if it lacks one
	Type     byte   // one of the Type constants
	Mode     int64  // permission bits; only mode & 07777 is written
	Uid, Gid int64
	Uname    string
	Gname    string
	Size     int64 // data length; 0 for everything but TypeReg
	Mtime    int64 // seconds since the epoch
	Linkname string
	Devmajor int64 // TypeChar and TypeBlock only
	Devminor int64
}

// ErrHeader is wrapped by the errors AppendHeader and HeaderLen return for
// a header the format cannot hold.
var ErrHeader = errors.New("header not representable")

func (h *Header) check() error {
	switch h.Type {
	case TypeReg:
	case TypeLink, TypeSymlink, TypeChar, TypeBlock, TypeDir, TypeFifo:
		if h.Size != 0 {
			return fmt.Errorf("%q: type %q with size %d: %w", h.Name, h.Type, h.Size, ErrHeader)
		}
	default:
		return fmt.Errorf("%q: unknown type %q: %w", h.Name, h.Type, ErrHeader)
	}
	if h.Size < 0 {
		return fmt.Errorf("%q: negative size: %w", h.Name, ErrHeader)
	}
	for _, s := range [...]string{h.Name, h.Linkname, h.Uname, h.Gname} {
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("%q: NUL byte in a string field: %w", h.Name, ErrHeader)
		}
	}
	if h.Name == "" {
		return fmt.Errorf("empty name: %w", ErrHeader)
	}
	return nil
}

// name returns the name as written: directories end with "/".
func (h *Header) name() string {
	if h.Type == TypeDir && !strings.HasSuffix(h.Name, "/") {
		return h.Name + "/"
	}
	return h.Name
}

func (h *Header) isDevice() bool { return h.Type == TypeChar || h.Type == TypeBlock }

// DataLen is the length of size bytes of file data padded to a block.
func DataLen(size int64) int64 { return (size + BlockSize - 1) &^ (BlockSize - 1) }

// EndLen is the length of the end of an archive whose entries took offset
// bytes: two zero blocks, then NUL padding to a whole record.
func EndLen(offset int64) int64 {
	n := offset + 2*BlockSize
	return (n+RecordSize-1)/RecordSize*RecordSize - offset
}

// AppendEnd appends the end of an archive whose entries took offset bytes.
func AppendEnd(dst []byte, offset int64) []byte {
	return appendZeros(dst, int(EndLen(offset)))
}

// AppendPadding appends the NUL bytes that follow size bytes of file data.
func AppendPadding(dst []byte, size int64) []byte {
	return appendZeros(dst, int(DataLen(size)-size))
}

// appendZeros appends n NUL bytes at once, not a byte at a time (a loop
// that cost 1% of stream-layered-image's CPU time: a padding for every file
// and PAX header). The compiler makes append of make an extension, cleared,
// with no slice allocated.
func appendZeros(dst []byte, n int) []byte {
	return append(dst, make([]byte, n)...)
}

// Format selects the program whose bytes are reproduced. The zero value is
// not a format; use Python or GNU.
type Format struct {
	kind formatKind
}

type formatKind uint8

const (
	kindPython formatKind = iota + 1
	kindGNU
)

var (
	// Python is CPython's tarfile in PAX_FORMAT with UTF-8 names
	// (nixpkgs' store layers).
	Python = Format{kind: kindPython}
	// GNU is GNU tar 1.34's gnu format with --numeric-owner (nixpkgs'
	// customisation layer).
	GNU = Format{kind: kindGNU}
)

// String names the format.
func (f Format) String() string {
	switch f.kind {
	case kindPython:
		return "python-pax"
	case kindGNU:
		return "gnu"
	}
	return "invalid"
}

// HeaderLen returns the number of bytes AppendHeader appends for h.
func (f Format) HeaderLen(h *Header) (int64, error) {
	if err := h.check(); err != nil {
		return 0, err
	}
	switch f.kind {
	case kindPython:
		return pythonHeaderLen(h)
	case kindGNU:
		return gnuHeaderLen(h), nil
	}
	return 0, fmt.Errorf("tarw: invalid format")
}

// EntryLen returns the length of h's header block(s) plus its padded data.
func (f Format) EntryLen(h *Header) (int64, error) {
	n, err := f.HeaderLen(h)
	return n + DataLen(h.Size), err
}

// AppendHeader appends the header block(s) of h to dst. On error dst is
// returned unchanged.
func (f Format) AppendHeader(dst []byte, h *Header) ([]byte, error) {
	if err := h.check(); err != nil {
		return dst, err
	}
	switch f.kind {
	case kindPython:
		return appendPythonHeader(dst, h)
	case kindGNU:
		return f.appendGNUHeader(dst, h)
	}
	return dst, fmt.Errorf("tarw: invalid format")
}
