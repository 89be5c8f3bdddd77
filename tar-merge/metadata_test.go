package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"dockertools.dev/testkit"
)

// TestFlattenKeepsMetadata: what a layer header says about an entry comes
// out unchanged (mode bits, owner ids and names, time to the second,
// extended attributes, long and non-ASCII names), whatever format it came in.
func TestFlattenKeepsMetadata(t *testing.T) {
	long := strings.Repeat("a-long-file-name-", 9)
	want := []*tar.Header{
		{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(0, 0)},
		{Name: "./bin/", Typeflag: tar.TypeDir, Mode: 0o755, Uid: 0, Gid: 0, Uname: "root", Gname: "root", ModTime: time.Unix(1700000000, 0)},
		{Name: "./bin/ping", Typeflag: tar.TypeReg, Mode: 0o4755, Uid: 0, Gid: 0, Uname: "root", Gname: "root", ModTime: time.Unix(1700000001, 0),
			PAXRecords: map[string]string{"SCHILY.xattr.security.capability": "\x01\x00\x00\x02\x00\x20\x00\x00"}},
		{Name: "./home/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(0, 0)}, // implied
		{Name: "./home/" + long, Typeflag: tar.TypeReg, Mode: 0o644, ModTime: time.Unix(1, 0)},
		{Name: "./home/ünïcode", Typeflag: tar.TypeReg, Mode: 0o600, Uid: 100000, Gid: 100000, Uname: "a-rather-long-user-name-over-32-bytes", Gname: "g", ModTime: time.Unix(5, 0)},
	}
	var body bytes.Buffer
	tw := tar.NewWriter(&body)
	for _, h := range want[1:] {
		if h.Name == "./home/" {
			continue
		}
		in := *h
		in.Name = strings.TrimPrefix(in.Name, "./")
		in.ModTime = in.ModTime.Add(300 * time.Millisecond) // sub-second: dropped
		in.Format = tar.FormatPAX
		if in.Typeflag == tar.TypeReg {
			in.Size = int64(len(in.Name))
		}
		if err := tw.WriteHeader(&in); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, in.Name)
	}
	tw.Close()
	dir := t.TempDir()
	out, err := flattenImage(t, dir, []layer{{raw: body.Bytes()}}, testkit.ImageOptions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for i := 0; ; i++ {
		got, err := tr.Next()
		if err == io.EOF {
			if i != len(want) {
				t.Fatalf("%d entries, want %d", i, len(want))
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(want) {
			t.Fatalf("extra entry %q", got.Name)
		}
		w := want[i]
		if got.Name != w.Name || got.Typeflag != w.Typeflag || got.Mode != w.Mode || got.Uid != w.Uid || got.Gid != w.Gid ||
			got.Uname != w.Uname || got.Gname != w.Gname || got.ModTime.Unix() != w.ModTime.Unix() || got.ModTime.Nanosecond() != 0 {
			t.Errorf("entry %d:\n got %q %c %o %d:%d %s:%s %v\nwant %q %c %o %d:%d %s:%s %v", i,
				got.Name, got.Typeflag, got.Mode, got.Uid, got.Gid, got.Uname, got.Gname, got.ModTime,
				w.Name, w.Typeflag, w.Mode, w.Uid, w.Gid, w.Uname, w.Gname, w.ModTime)
		}
		for k, v := range w.PAXRecords {
			if got.PAXRecords[k] != v {
				t.Errorf("entry %q: %s = %q, want %q", got.Name, k, got.PAXRecords[k], v)
			}
		}
		if w.Typeflag == tar.TypeReg {
			body, _ := io.ReadAll(tr)
			if string(body) != strings.TrimPrefix(w.Name, "./") {
				t.Errorf("entry %q: content %q", got.Name, body)
			}
		}
	}
}
