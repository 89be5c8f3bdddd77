package main

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"

	"dockertools.dev/testkit"
)

// TestDirectoryOverDirectoryReplacesXattrs: a directory entry over a
// directory gives it the entry's extended attributes, not the old ones
// with the entry's added: the OCI image spec replaces "the existing
// path's attributes", and umoci does (TestDifferential seed 5 found
// --flatten keeping the lower layer's user.k0, as Docker keeps it).
func TestDirectoryOverDirectoryReplacesXattrs(t *testing.T) {
	layers := []layer{
		specLayer("d 0755 0:0 x/ xattr.user.k0=v65 xattr.user.k1=old", "d 0755 0:0 y/ xattr.user.k0=kept"),
		specLayer("d 1777 0:42 x/ xattr.user.k1=v84", "d 0700 0:0 y/"),
	}
	out, err := flattenImage(t, t.TempDir(), layers, testkit.ImageOptions{}, false)
	must(t, err)
	got := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(readFile(t, out)))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		var x []string
		for k, v := range h.PAXRecords {
			if name, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
				x = append(x, name+"="+v)
			}
		}
		got[h.Name] = strings.Join(x, " ")
	}
	for name, want := range map[string]string{"./x/": "user.k1=v84", "./y/": ""} {
		if got[name] != want {
			t.Errorf("%s has xattrs %q, want %q", name, got[name], want)
		}
	}
}
