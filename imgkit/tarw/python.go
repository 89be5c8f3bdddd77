package tarw

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// CPython tarfile's limits for ustar fields in PAX_FORMAT: numbers that do
// not fit move to the PAX header and the ustar field holds 0.
const (
	pyMaxSmall = int64(1) << 21 // 8**7: uid, gid
	pyMaxLarge = int64(1) << 33 // 8**11: size, mtime
)

// paxRecord is one key of a PAX header; str is used for string values,
// num for numeric ones.
type paxRecord struct {
	key   string
	str   string
	num   int64
	isNum bool
}

// pythonRecords returns the PAX records CPython writes for h, in its order
// (path, linkpath, uname, gname, uid, gid, size, mtime). The array avoids
// an allocation; n is the number in use.
func pythonRecords(h *Header) (recs [8]paxRecord, n int) {
	for _, f := range [...]struct {
		key, val string
		max      int
	}{{"path", h.name(), lenName}, {"linkpath", h.Linkname, lenLinkname}, {"uname", h.Uname, lenOwner}, {"gname", h.Gname, lenOwner}} {
		if len(f.val) > f.max || !isASCII(f.val) {
			recs[n] = paxRecord{key: f.key, str: f.val}
			n++
		}
	}
	for _, f := range [...]struct {
		key string
		val int64
		max int64
	}{{"uid", h.Uid, pyMaxSmall}, {"gid", h.Gid, pyMaxSmall}, {"size", h.Size, pyMaxLarge}, {"mtime", h.Mtime, pyMaxLarge}} {
		if f.val < 0 || f.val >= f.max {
			recs[n] = paxRecord{key: f.key, num: f.val, isNum: true}
			n++
		}
	}
	return recs, n
}

// binaryRecords reports whether a string value is not valid UTF-8, which
// makes CPython announce hdrcharset=BINARY and write the raw bytes.
func binaryRecords(recs []paxRecord) bool {
	for _, r := range recs {
		if !r.isNum && !utf8.ValidString(r.str) {
			return true
		}
	}
	return false
}

const hdrcharsetBinary = "21 hdrcharset=BINARY\n"

// recordLen is the length of the record "<len> key=value\n", where len
// counts the whole record including its own digits.
func recordLen(key string, valueLen int) int {
	l := len(key) + valueLen + 3 // ' ', '=', '\n'
	p := 0
	for {
		n := l + decimalDigits(int64(p))
		if n == p {
			return p
		}
		p = n
	}
}

func (r paxRecord) valueLen() int {
	if r.isNum {
		return decimalDigits(r.num)
	}
	return len(r.str)
}

// decimalDigits is len(strconv.FormatInt(v, 10)), without the string.
func decimalDigits(v int64) int {
	n := 1
	if v < 0 {
		n++ // the sign; -v overflows only for MinInt64, which has 19 digits
		if v == -1<<63 {
			return 20
		}
		v = -v
	}
	for ; v >= 10; v /= 10 {
		n++
	}
	return n
}

func recordsLen(recs []paxRecord) int {
	n := 0
	if binaryRecords(recs) {
		n = len(hdrcharsetBinary)
	}
	for _, r := range recs {
		n += recordLen(r.key, r.valueLen())
	}
	return n
}

func appendRecords(dst []byte, recs []paxRecord) []byte {
	if binaryRecords(recs) {
		dst = append(dst, hdrcharsetBinary...)
	}
	for _, r := range recs {
		dst = strconv.AppendInt(dst, int64(recordLen(r.key, r.valueLen())), 10)
		dst = append(dst, ' ')
		dst = append(dst, r.key...)
		dst = append(dst, '=')
		if r.isNum {
			dst = strconv.AppendInt(dst, r.num, 10)
		} else {
			dst = append(dst, r.str...)
		}
		dst = append(dst, '\n')
	}
	return dst
}

func checkPythonDevice(h *Header) error {
	if h.isDevice() && (!fitsOctal(h.Devmajor, lenSmall) || !fitsOctal(h.Devminor, lenSmall)) {
		return fmt.Errorf("%q: device number %d,%d: %w", h.Name, h.Devmajor, h.Devminor, ErrHeader)
	}
	return nil
}

func pythonHeaderLen(h *Header) (int64, error) {
	if err := checkPythonDevice(h); err != nil {
		return 0, err
	}
	recs, n := pythonRecords(h)
	if n == 0 {
		return BlockSize, nil
	}
	return 2*BlockSize + DataLen(int64(recordsLen(recs[:n]))), nil
}

func appendPythonHeader(dst []byte, h *Header) ([]byte, error) {
	return appendPAXHeader(dst, h, nil)
}

// appendPAXHeader appends h's header as CPython writes it, with the records
// in extra (a TarInfo's pax_headers) before those CPython adds itself.
func appendPAXHeader(dst []byte, h *Header, extra []paxRecord) ([]byte, error) {
	if err := checkPythonDevice(h); err != nil {
		return dst, err
	}
	recs, n := pythonRecords(h)
	all := recs[:n]
	if extra != nil {
		all = append(extra, all...)
	}
	if len(all) > 0 {
		size := recordsLen(all)
		var b []byte
		dst, b = appendBlock(dst)
		putString(b[offName:offName+lenName], "././@PaxHeader")
		for _, off := range [...]int{offMode, offUid, offGid} {
			putOctal(b[off:off+lenSmall], 0)
		}
		putOctal(b[offSize:offSize+lenLarge], int64(size))
		putOctal(b[offMtime:offMtime+lenLarge], 0)
		b[offType] = 'x'
		putString(b[offMagic:offMagic+8], magicPOSIX)
		setChecksum(b)
		dst = appendRecords(dst, all)
		dst = AppendPadding(dst, int64(size))
	}
	var b []byte
	dst, b = appendBlock(dst)
	putASCIIReplaced(b[offName:offName+lenName], h.name())
	putOctal(b[offMode:offMode+lenSmall], h.Mode&0o7777)
	putOctal(b[offUid:offUid+lenSmall], pyNumber(h.Uid, pyMaxSmall))
	putOctal(b[offGid:offGid+lenSmall], pyNumber(h.Gid, pyMaxSmall))
	putOctal(b[offSize:offSize+lenLarge], pyNumber(h.Size, pyMaxLarge))
	putOctal(b[offMtime:offMtime+lenLarge], pyNumber(h.Mtime, pyMaxLarge))
	b[offType] = h.Type
	putASCIIReplaced(b[offLinkname:offLinkname+lenLinkname], h.Linkname)
	putString(b[offMagic:offMagic+8], magicPOSIX)
	putASCIIReplaced(b[offUname:offUname+lenOwner], h.Uname)
	putASCIIReplaced(b[offGname:offGname+lenOwner], h.Gname)
	if h.isDevice() {
		putOctal(b[offDevmajor:offDevmajor+lenSmall], h.Devmajor)
		putOctal(b[offDevminor:offDevminor+lenSmall], h.Devminor)
	}
	setChecksum(b)
	return dst, nil
}

// pyNumber is what the ustar field holds: v, or 0 when v went to the PAX
// header.
func pyNumber(v, max int64) int64 {
	if v < 0 || v >= max {
		return 0
	}
	return v
}
