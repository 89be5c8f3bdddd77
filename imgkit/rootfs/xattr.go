package rootfs

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// xattrRecord is the PAX record prefix of an extended attribute (GNU tar,
// bsdtar, Docker and umoci write them so).
const xattrRecord = "SCHILY.xattr."

// setXattrs gives p the extended attributes its header lists, without
// following a symlink. Over an existing directory (replace), the
// attributes the header does not list are removed: the OCI image spec
// replaces a directory's attributes with the entry's, as umoci does
// (Docker keeps the old ones). The host's own attributes (hostXattr) are
// neither set nor removed. An attribute this process may not set or the
// file system does not hold (EPERM: trusted.* without CAP_SYS_ADMIN,
// user.* on a symlink; ENOTSUP) is left out, as an owner it cannot give
// is: the layers keep it, only the directory lacks it.
func setXattrs(p string, h *tar.Header, replace bool) error {
	if replace {
		names, err := listXattrs(p)
		if err != nil {
			return err
		}
		for _, name := range names {
			if _, keep := h.PAXRecords[xattrRecord+name]; keep || hostXattr(name) {
				continue
			}
			if err := unix.Lremovexattr(p, name); err != nil && !xattrRefused(err) {
				return &os.PathError{Op: "removexattr " + name, Path: p, Err: err}
			}
		}
	}
	for k, v := range h.PAXRecords {
		name, ok := strings.CutPrefix(k, xattrRecord)
		if !ok || hostXattr(name) {
			continue
		}
		if err := unix.Lsetxattr(p, name, []byte(v), 0); err != nil && !xattrRefused(err) {
			return &os.PathError{Op: "setxattr " + name, Path: p, Err: err}
		}
	}
	return nil
}

// hostXattr reports whether the attribute name belongs to the host, not
// to the image: the system namespace (ACLs, which the mode stands for),
// the security modules' labels and integrity data (security.selinux,
// security.SMACK64, security.ima, security.evm: host policy, which a
// layer must not relabel the host's tree with, and which SELinux refuses
// to remove, EACCES, from any directory a later layer lists again) but
// the file capability, and overlayfs' own (trusted.overlay.*: opaque,
// redirect, metacopy would change what an overlay over the tree shows).
// umoci leaves security.selinux and the overlay's alone as well, and
// containerd every trusted.* one.
func hostXattr(name string) bool {
	return strings.HasPrefix(name, "system.") ||
		strings.HasPrefix(name, "security.") && name != "security.capability" ||
		strings.HasPrefix(name, "trusted.overlay.")
}

func xattrRefused(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOTSUP)
}

// listXattrs returns the names of p's extended attributes.
func listXattrs(p string) ([]string, error) {
	for size := 1 << 10; ; size *= 4 {
		buf := make([]byte, size)
		n, err := unix.Llistxattr(p, buf)
		switch {
		case errors.Is(err, unix.ERANGE) && size < 1<<20:
			continue
		case errors.Is(err, unix.ENOTSUP):
			return nil, nil
		case err != nil:
			return nil, &os.PathError{Op: "listxattr", Path: p, Err: err}
		}
		var names []string
		for _, name := range bytes.Split(buf[:n], []byte{0}) {
			if len(name) > 0 {
				names = append(names, string(name))
			}
		}
		return names, nil
	}
}
