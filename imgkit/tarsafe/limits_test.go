package tarsafe

import (
	"archive/tar"
	"errors"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// deep is a clean path of n bytes made of names of at most 255 bytes.
func deep(n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(strings.Repeat("d", min(200, n-b.Len())))
	}
	return b.String()[:n]
}

// TestOverlongNames: a name, hardlink target or symlink target longer
// than Linux allows is refused by Classify (fuzzing found that a layer of
// one entry named "a/" 250,000 times made tar-merge --flatten run for
// minutes and take 24 GB: every parent check walks the whole name), and
// the message quotes a bounded part of it.
func TestOverlongNames(t *testing.T) {
	long := strings.Repeat("a/", 250000) + "x"
	for _, tc := range []struct {
		name string
		hdr  *tar.Header
	}{
		{"NameTooLong", hdr(tar.TypeReg, deep(MaxPath+1), "")},
		{"NameOfAMegabyte", hdr(tar.TypeReg, long, "")},
		{"NameWithALongName", hdr(tar.TypeDir, "etc/"+strings.Repeat("n", MaxName+1)+"/", "")},
		{"WhiteoutOfALongName", hdr(tar.TypeReg, "etc/.wh."+strings.Repeat("n", MaxName), "")},
		{"HardlinkTargetTooLong", hdr(tar.TypeLink, "x", "/"+deep(MaxPath+1))},
		{"HardlinkTargetWithALongName", hdr(tar.TypeLink, "x", strings.Repeat("n", MaxName+1))},
		{"SymlinkTargetTooLong", hdr(tar.TypeSymlink, "x", "/"+deep(MaxPath))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Classify(tc.hdr, Options{})
			if !errors.Is(err, errdefs.ErrInvalidInput) || !strings.Contains(err.Error(), "longer than") {
				t.Fatalf("got %.300v, want a refusal saying the name is too long", err)
			}
			if n := len(err.Error()); n > 2*errdefs.MaxQuoted+200 {
				t.Fatalf("a message of %d bytes", n)
			}
		})
	}
	for _, tc := range []struct {
		name string
		hdr  *tar.Header
	}{
		{"LongestName", hdr(tar.TypeReg, "/"+deep(MaxPath), "")},
		{"LongestNameInAPath", hdr(tar.TypeReg, strings.Repeat("n", MaxName)+"/x", "")},
		{"LongestHardlinkTarget", hdr(tar.TypeLink, "x", deep(MaxPath))},
		{"LongestSymlinkTarget", hdr(tar.TypeSymlink, "x", "/"+deep(MaxPath-1))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Classify(tc.hdr, Options{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
