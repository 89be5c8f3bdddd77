package tarw

import "fmt"

// GNU tar writes a ././@LongLink entry before a header whose name or link
// target does not fit the 100-byte field (GNU tar's gnu format: longer than
// 100 bytes; a name of exactly 100 bytes fills the field without a NUL).
func gnuLong(s string) bool { return len(s) > lenName }

func gnuHeaderLen(h *Header) int64 {
	n := int64(BlockSize)
	if gnuLong(h.Linkname) {
		n += BlockSize + DataLen(int64(len(h.Linkname))+1)
	}
	if name := h.name(); gnuLong(name) {
		n += BlockSize + DataLen(int64(len(name))+1)
	}
	return n
}

func (f Format) appendGNUHeader(dst []byte, h *Header) ([]byte, error) {
	start := len(dst)
	name := h.name()
	// GNU tar writes the link target's entry ('K') before the name's ('L').
	if gnuLong(h.Linkname) {
		dst = f.appendLongLink(dst, 'K', h.Linkname)
	}
	if gnuLong(name) {
		dst = f.appendLongLink(dst, 'L', name)
	}
	var b []byte
	dst, b = appendBlock(dst)
	putString(b[offName:offName+lenName], name)
	putOctal(b[offMode:offMode+lenSmall], h.Mode&0o7777)
	ok := putGNUNumber(b[offUid:offUid+lenSmall], h.Uid) &&
		putGNUNumber(b[offGid:offGid+lenSmall], h.Gid) &&
		putGNUNumber(b[offSize:offSize+lenLarge], h.Size) &&
		putGNUNumber(b[offMtime:offMtime+lenLarge], h.Mtime)
	if h.isDevice() {
		ok = ok && putGNUNumber(b[offDevmajor:offDevmajor+lenSmall], h.Devmajor) &&
			putGNUNumber(b[offDevminor:offDevminor+lenSmall], h.Devminor)
	}
	if !ok {
		return dst[:start], fmt.Errorf("%q: a number field overflows: %w", h.Name, ErrHeader)
	}
	b[offType] = h.Type
	putString(b[offLinkname:offLinkname+lenLinkname], h.Linkname)
	putString(b[offMagic:offMagic+8], magicGNU)
	putString(b[offUname:offUname+lenOwner], h.Uname)
	putString(b[offGname:offGname+lenOwner], h.Gname)
	setChecksum(b)
	return dst, nil
}

// appendLongLink appends a ././@LongLink entry holding s and a NUL.
func (f Format) appendLongLink(dst []byte, typ byte, s string) []byte {
	var b []byte
	dst, b = appendBlock(dst)
	putString(b[offName:offName+lenName], "././@LongLink")
	putOctal(b[offMode:offMode+lenSmall], 0o644)
	putOctal(b[offUid:offUid+lenSmall], 0)
	putOctal(b[offGid:offGid+lenSmall], 0)
	putOctal(b[offSize:offSize+lenLarge], int64(len(s))+1)
	putOctal(b[offMtime:offMtime+lenLarge], 0)
	b[offType] = typ
	putString(b[offMagic:offMagic+8], magicGNU)
	setChecksum(b)
	dst = append(dst, s...)
	dst = append(dst, 0)
	return AppendPadding(dst, int64(len(s))+1)
}

// putGNUNumber writes v in octal when it fits, else in base-256, as GNU
// tar's gnu format does. It reports false when neither fits.
func putGNUNumber(field []byte, v int64) bool {
	if fitsOctal(v, len(field)) {
		putOctal(field, v)
		return true
	}
	return putBase256(field, v)
}
