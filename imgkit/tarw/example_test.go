package tarw_test

import (
	"bytes"
	"fmt"

	"dockertools.dev/imgkit/tarw"
)

// A layer's exact size is known from its headers before any byte is
// written; Writer then writes the same bytes.
func Example() {
	entries := []tarw.Header{
		{Name: "/nix", Type: tarw.TypeDir, Mode: 0o755, Uname: "root", Gname: "root", Mtime: 1},
		{Name: "/nix/store/abc-hello/greeting", Type: tarw.TypeReg, Mode: 0o444, Uname: "root", Gname: "root", Mtime: 1, Size: 6},
	}
	var size int64
	for i := range entries {
		n, _ := tarw.Python.EntryLen(&entries[i])
		size += n
	}
	size += tarw.EndLen(size)

	var buf bytes.Buffer
	tw := tarw.NewWriter(&buf, tarw.Python)
	for i := range entries {
		tw.WriteHeader(&entries[i])
	}
	tw.Write([]byte("hello\n"))
	tw.Close()
	fmt.Println(size, buf.Len())
	// Output: 10240 10240
}
