package tarw

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"dockertools.dev/testkit"
)

// headerCases are the headers both formats are checked with, each a case of
// the byte rules in the package doc.
var headerCases = []struct {
	name string
	h    Header
}{
	{"RegularFile", Header{Name: "/nix/store/abc-hello/bin/hello", Type: TypeReg, Mode: 0o555, Uname: "root", Gname: "root", Size: 42, Mtime: 1}},
	{"DirectoryGetsSlash", Header{Name: "/nix/store", Type: TypeDir, Mode: 0o755, Uname: "root", Gname: "root", Mtime: 1}},
	{"ModeKeepsSpecialBits", Header{Name: "tmp", Type: TypeDir, Mode: 0o41777, Mtime: 315532800}},
	{"RelativeSymlink", Header{Name: "/nix/store/x/lib/libfoo.so", Type: TypeSymlink, Mode: 0o777, Linkname: "libfoo.so.1", Uname: "root", Gname: "root"}},
	{"Name100Bytes", Header{Name: "/" + strings.Repeat("n", 99), Type: TypeReg, Mode: 0o444}},
	{"Name101Bytes", Header{Name: "/" + strings.Repeat("n", 100), Type: TypeReg, Mode: 0o444}},
	{"DirName100WithSlash", Header{Name: "/" + strings.Repeat("d", 99), Type: TypeDir, Mode: 0o555}},
	{"LongName", Header{Name: "/nix/store/" + strings.Repeat("long-", 40) + "name", Type: TypeReg, Mode: 0o444, Size: 3, Uname: "root", Gname: "root", Mtime: 1}},
	{"NonASCIIName", Header{Name: "/nix/store/abc-ünïcödé/ßtraße", Type: TypeReg, Mode: 0o444, Uname: "root", Gname: "root"}},
	{"LongNonASCIIName", Header{Name: "/nix/store/" + strings.Repeat("é", 80), Type: TypeReg, Mode: 0o444}},
	{"InvalidUTF8Name", Header{Name: "/nix/store/abc-\xff\xfe-bytes", Type: TypeReg, Mode: 0o444}},
	{"LongSymlinkTarget", Header{Name: "/nix/store/x/link", Type: TypeSymlink, Mode: 0o777, Linkname: "/nix/store/" + strings.Repeat("t", 120)}},
	{"NonASCIISymlinkTarget", Header{Name: "/l", Type: TypeSymlink, Mode: 0o777, Linkname: "ziel-ä"}},
	{"LongNameAndTarget", Header{Name: "/" + strings.Repeat("n", 130), Type: TypeSymlink, Mode: 0o777, Linkname: strings.Repeat("t", 130)}},
	{"Hardlink", Header{Name: "./b", Type: TypeLink, Mode: 0o644, Linkname: "./a"}},
	{"LongUname", Header{Name: "/f", Type: TypeReg, Mode: 0o644, Uname: strings.Repeat("u", 33), Gname: "g"}},
	{"Uname32", Header{Name: "/f", Type: TypeReg, Mode: 0o644, Uname: strings.Repeat("u", 32), Gname: strings.Repeat("g", 32)}},
	{"NonASCIIGname", Header{Name: "/f", Type: TypeReg, Mode: 0o644, Uname: "u", Gname: "gruppé"}},
	{"LargeUid", Header{Name: "/f", Type: TypeReg, Mode: 0o644, Uid: 1 << 21, Gid: 1<<21 - 1}},
	{"NegativeMtime", Header{Name: "/f", Type: TypeReg, Mode: 0o644, Mtime: -86400}},
	{"Size8GiB", Header{Name: "/big", Type: TypeReg, Mode: 0o644, Size: 8 << 30}},
	{"SizeJustUnder8GiB", Header{Name: "/big", Type: TypeReg, Mode: 0o644, Size: 8<<30 - 1}},
	{"CharDevice", Header{Name: "./dev/null", Type: TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3}},
	{"BlockDevice", Header{Name: "./dev/sda", Type: TypeBlock, Mode: 0o660, Devmajor: 8, Devminor: 0}},
	{"Fifo", Header{Name: "./fifo", Type: TypeFifo, Mode: 0o600, Uid: 1000, Gid: 100}},
	{"RecordLengthCarries", Header{Name: "/" + strings.Repeat("r", 93), Type: TypeDir, Mode: 0o755, Linkname: ""}},
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestPythonMatchesCPython compares every case with the bytes CPython's
// tarfile writes for the same header.
func TestPythonMatchesCPython(t *testing.T) {
	testkit.Need(t, "python3")
	// A directory name of 99 bytes plus "/" is exactly 100: no PAX header.
	// One of 100 plus "/" needs one; add it to the cases.
	cases := append(headerCases[:len(headerCases):len(headerCases)], struct {
		name string
		h    Header
	}{"DirName101WithSlash", Header{Name: "/" + strings.Repeat("d", 100), Type: TypeDir, Mode: 0o555}})
	var in []map[string]any
	for _, c := range cases {
		h := c.h
		in = append(in, map[string]any{
			"name": b64(h.Name), "type": string(h.Type), "mode": h.Mode, "uid": h.Uid, "gid": h.Gid,
			"uname": b64(h.Uname), "gname": b64(h.Gname), "size": h.Size, "mtime": h.Mtime,
			"linkname": b64(h.Linkname), "devmajor": h.Devmajor, "devminor": h.Devminor,
		})
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "testdata/pyheaders.py")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != len(cases) {
		t.Fatalf("python3 printed %d headers for %d cases", len(lines), len(cases))
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, _ := hex.DecodeString(lines[i])
			got, err := Python.AppendHeader(nil, &c.h)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("bytes differ from CPython's at offset %d\n got %q\nwant %q", firstDiff(got, want), got, want)
			}
			n, err := Python.HeaderLen(&c.h)
			if err != nil || n != int64(len(got)) {
				t.Errorf("HeaderLen = %d, %v; AppendHeader wrote %d", n, err, len(got))
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
