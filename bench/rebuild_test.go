package main

import "testing"

// TestParseFilefrag: the shared extents of filefrag -v's listing (XFS, a
// reflinked file) and an ext4 file's, one extent not yet allocated
// (length 0: counted by its logical range).
func TestParseFilefrag(t *testing.T) {
	for _, c := range []struct {
		name, out     string
		shared, total int64
	}{
		{"xfs", `Filesystem type is: 58465342
File size of rebuild.tar is 70258688 (17153 blocks of 4096 bytes)
 ext:     logical_offset:        physical_offset: length:   expected: flags:
   0:        0..    1125:         24..      1149:   1126:             shared
   1:     1126..    1280:       1160..      1314:    155:       1150: 
   2:     1281..   17152:       1330..     17201:  15872:       1315: last,shared,eof
rebuild.tar: 3 extents found
`, (1126 + 15872) * 4096, 17153 * 4096},
		{"ext4 delalloc", `Filesystem type is: ef53
File size of x.tar is 71276032 (17402 blocks of 4096 bytes)
 ext:     logical_offset:        physical_offset: length:   expected: flags:
   0:        0..   17401:          0..         0:      0:             last,unknown_loc,delalloc,eof
x.tar: 1 extent found
`, 0, 17402 * 4096},
	} {
		u, err := parseFilefrag(c.out)
		if err != nil || u.shared != c.shared || u.total != c.total {
			t.Errorf("%s: %+v, %v; want %d shared of %d", c.name, u, err, c.shared, c.total)
		}
	}
	if _, err := parseFilefrag("not filefrag\n"); err == nil {
		t.Error("no block size: no error")
	}
}
