package tarw

import "testing"

// BenchmarkAppendHeader encodes a store file's header as layer-pack does
// for every entry: a name past 100 bytes, so a PAX header block too.
// 1.1-1.6 µs on the shared 2-core machine when the checksum added one byte
// at a time, 0.46-0.58 µs eight at a time (byteSum, asciiPrefix).
func BenchmarkAppendHeader(b *testing.B) {
	h := &Header{Name: "/nix/store/n7hmqn840gz28x5s2drd5pfvs713j6a7-glibc-2.40/share/locale/de/LC_MESSAGES/libc.mo/longer",
		Type: TypeReg, Mode: 0o444, Uname: "root", Gname: "root", Size: 123456, Mtime: 1}
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		if _, err := Python.AppendHeader(buf, h); err != nil {
			b.Fatal(err)
		}
	}
}
