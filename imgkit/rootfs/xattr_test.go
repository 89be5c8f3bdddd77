//go:build linux

package rootfs

import (
	"context"
	"os"
	"path/filepath"
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

// TestUnpackLeavesHostXattrs: the host's own attributes are neither set
// from a layer nor removed by one. Unpack as root set a layer's
// security.selinux and trusted.overlay.* on the host's tree (umoci and
// containerd leave them out), and removed the label of every directory a
// later layer lists again, which an SELinux host refuses (EACCES): the
// unpack then failed. Here the label stands for the host's on the
// directory Unpack fills, which the image's "./" lists again.
func TestUnpackLeavesHostXattrs(t *testing.T) {
	needRoot(t)
	img := imageOf(t,
		spec("d 0755 0:0 ./ xattr.user.k=image",
			"d 0755 0:0 d/ xattr.security.selinux=system_u:object_r:shadow_t:s0 xattr.trusted.overlay.opaque=y",
			"f 0644 0:0 d/f \"f\" xattr.trusted.overlay.redirect=/etc/shadow xattr.trusted.overlay.metacopy= xattr.security.ima=x"),
		spec("d 0755 0:0 ./"))
	root := filepath.Join(t.TempDir(), "root")
	must(t, os.Mkdir(root, 0o700))
	const label = "system_u:object_r:container_file_t:s0"
	if err := unix.Lsetxattr(root, "security.selinux", []byte(label), 0); err != nil {
		t.Skipf("this file system holds no security.selinux: %v", err)
	}
	if _, err := Unpack(context.Background(), img, root, UnpackOptions{}); err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	buf := make([]byte, 256)
	if n, err := unix.Lgetxattr(root, "security.selinux", buf); err != nil || string(buf[:n]) != label {
		t.Errorf("the host's label of the tree's root is %q (%v), want %q kept", buf[:max(n, 0)], err, label)
	}
	for _, x := range [][2]string{
		{"d", "security.selinux"}, {"d", "trusted.overlay.opaque"},
		{"d/f", "trusted.overlay.redirect"}, {"d/f", "trusted.overlay.metacopy"}, {"d/f", "security.ima"},
	} {
		if _, err := unix.Lgetxattr(filepath.Join(root, x[0]), x[1], buf); err != unix.ENODATA {
			t.Errorf("%s: the layer set the host's attribute %s (%v)", x[0], x[1], err)
		}
	}
}
