package rootfs

import (
	"testing"

	"golang.org/x/sys/unix"
)

// capV2 is a security.capability value (VFS_CAP_REVISION_2, effective)
// granting cap_net_raw.
const capV2 = `"\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"`

// TestUnpackSetsXattrs: the extended attributes of a layer's entries are
// on the unpacked tree, as umoci and Docker set them; a directory over a
// directory takes the entry's attributes and loses the others (the OCI
// image spec, umoci); a file capability survives its owner being given
// (chown drops it). TestDifferential found Unpack setting none.
func TestUnpackSetsXattrs(t *testing.T) {
	needRoot(t)
	img := imageOf(t,
		spec("d 0755 0:0 d/ xattr.user.old=1 xattr.user.both=old",
			"f 0644 0:0 d/f \"f\" xattr.user.k=v",
			"f 4755 1000:1000 ping \"ping\" xattr.security.capability="+capV2,
			"l 0777 0:0 link d xattr.trusted.t=on-a-symlink"),
		spec("d 0700 0:0 d/ xattr.user.both=new"))
	root, _ := unpackInto(t, img)
	for _, tc := range []struct{ path, name, want string }{
		{"d", "user.old", ""},
		{"d", "user.both", "new"},
		{"d/f", "user.k", "v"},
		{"ping", "security.capability", "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"},
		{"link", "trusted.t", "on-a-symlink"},
	} {
		buf := make([]byte, 256)
		n, err := unix.Lgetxattr(root+"/"+tc.path, tc.name, buf)
		got := ""
		if err == nil {
			got = string(buf[:n])
		} else if err != unix.ENODATA {
			t.Fatalf("%s %s: %v", tc.path, tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: %s = %q, want %q", tc.path, tc.name, got, tc.want)
		}
	}
}
