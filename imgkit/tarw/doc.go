// Package tarw writes tar archives byte for byte as two reference programs
// do, so that layers built here have the digests nixpkgs' layers have:
//
//   - Python: CPython's tarfile module, PAX_FORMAT, UTF-8 names, as
//     nixpkgs' stream_layered_image.py writes store layers;
//   - GNU: GNU tar 1.34 in its default gnu format with --numeric-owner, as
//     nixpkgs packs the customisation layer and buildImage/exportImage trees.
//
// Go's archive/tar produces neither (it names PAX headers
// "PaxHeaders.0/…", splits long names into the prefix field, and writes
// other padding), so the headers are assembled here field by field.
//
// # The API
//
// A Header is the metadata of one entry. Format.AppendHeader appends the
// header block(s) for it (including a PAX or ././@LongLink block when the
// format needs one) and Format.HeaderLen says how many bytes that is
// without building them, so a caller can compute an archive's exact size
// before writing it (EntryLen, EndLen). Writer wraps this in an io.Writer
// for callers that do not need the size first.
//
// Names are written as given, except that a directory's name gets a
// trailing "/" when it lacks one (both programs do that). Only regular
// files carry data: Size must be 0 for every other type.
//
// # Byte rules shared by both formats
//
// 512-byte blocks; numeric fields are zero-padded octal followed by NUL
// (mode, uid, gid: 7 digits; size, mtime: 11 digits); the mode field holds
// only the permission bits (mode & 07777); the checksum is the sum of the
// header bytes with the checksum field counted as spaces, written as six
// octal digits, NUL, space; devmajor/devminor are written for character
// and block devices only and are NUL otherwise; file data is padded with
// NUL to a block; the archive ends with two zero blocks and is padded with
// NUL to a multiple of 10240 bytes (20 blocks).
//
// # Python (CPython tarfile, PAX_FORMAT)
//
// Magic "ustar\x00" version "00". A PAX extended header comes first when a
// name or link target is longer than 100 bytes or not ASCII, when a uname
// or gname is longer than 32 bytes or not ASCII, when uid or gid is not in
// [0, 8^7) or size or mtime not in [0, 8^11) (the ustar field then holds
// 0). That header is named "././@PaxHeader", type 'x', mode/uid/gid/mtime
// 0, no owner names; its records come in the order path, linkpath, uname,
// gname, uid, gid, size, mtime, each "<len> key=value\n" where len counts
// the whole record including its own digits; when a value is not valid
// UTF-8 the records start with "21 hdrcharset=BINARY\n" and hold the raw
// bytes. The ustar header that follows holds the name and link target
// with every non-ASCII character (or invalid byte) replaced by '?',
// truncated to 100 bytes, and an empty prefix.
//
// # GNU (GNU tar 1.34, --format=gnu)
//
// Magic "ustar " version " \x00". A name or link target longer than 100
// bytes is preceded by a "././@LongLink" entry of type 'L' (name) or 'K'
// (link) whose data is the full string plus a NUL (mode 0644, uid/gid 0,
// mtime 0, owner names empty, as --numeric-owner leaves them); the real
// header holds the first 100 bytes. Numbers that do not
// fit the octal field are written in base-256 (first byte 0x80, or 0xff
// for negative numbers, then big-endian).
//
// # Sparse files
//
// AppendSparse writes a sparse file in GNU tar's PAX 1.0 sparse format
// (the Python format's PAX header with GNU.sparse.* records, the map at
// the start of the data). CPython never writes sparse files; this is the
// one thing the package writes that neither reference program would for
// the same input, and it is used for files that came from a sparse entry
// (tar-merge --flatten). Align widens the fragments to the blocks GNU tar
// reads them in.
//
// # Member order
//
// Neither format sorts: the caller emits entries in order. PythonLess and
// GNULess compare two names of one directory as the two programs sort them
// (pathlib compares code points, with undecodable bytes as the surrogates
// U+DC80..U+DCFF; GNU tar --sort=name compares bytes). Emitting a directory
// and then its children, sorted and depth first, gives pathlib's sorted()
// order and GNU tar's --sort=name order.
package tarw
