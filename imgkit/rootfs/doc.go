// Package rootfs turns image layers into a directory and a directory back
// into a layer, for build-image's --run-as-root (nixpkgs' runAsRoot
// without a VM) and its single-layer images:
//
//   - Unpack applies an image's layers onto a directory, bottom first, as
//     the OCI image spec, umoci and (but for a few cases, see
//     testkit.GenStack) Docker apply them: whiteouts and opaque
//     directories hide what lower layers put there, every entry passes
//     imgkit/tarsafe's rules (nothing is written through a symlink or
//     outside the directory), sparse files are written with holes,
//     extended attributes are set (a directory over a directory takes the
//     entry's; the host's own, such as SELinux labels, are left alone),
//     what a layer expands to is bounded (tarsafe.Reader), and
//     the result is recorded in a Snapshot.
//   - A Snapshot is what each path looked like (type, mode, owner, size,
//     times, inode, link target) right after unpacking, plus the owner the
//     layer asked for where the caller could not give it (an unprivileged
//     user namespace maps only a few ids).
//   - WriteLayer packs a directory as one layer tar: every entry (a pure
//     buildImage layer), or only what changed since a Snapshot, with a
//     whiteout for each deleted path and an opaque marker for a directory
//     whose lower contents are all gone; then the files of the store paths
//     the layer needs.
//   - StorePaths lists the store paths an image's layers already hold, so
//     that a new layer leaves them out.
//
// # Deciding what changed
//
// A path changed when its type, permission bits, owner, size, link target,
// device number, inode, modification time or change time differs from the
// snapshot. The change time (ctime) moves on every write, chmod, chown and
// rename and cannot be set back by a program, so a change made by a script
// is seen even when it restores the modification time and size. Owners and
// modes in the layer are those on disk; times are normalised (Mtime), so
// the layer depends on what the script did, not on when.
//
// A directory is written as opaque (".wh..wh..opq", then its whole current
// subtree) when it was replaced (its inode changed), or when some of its
// lower entries were deleted and none of the others is still the same
// file; otherwise each deleted entry gets its own ".wh.NAME". Both give the
// same file system; the opaque form is shorter when a directory was
// emptied and refilled.
//
// # Layer bytes
//
// GNU tar's format (imgkit/tarw.GNU), as nixpkgs packs buildImage layers
// with tar --sort=name --hard-dereference --mtime=@315532800: "./" first,
// then every directory followed by its entries sorted by name in byte
// order, every mtime the same. A whole tree stores hardlinks as separate
// files, as nixpkgs does; a change layer keeps the links its script made
// (paths that share an inode are one file and hardlinks to it, as docker
// commit keeps them). Sockets are left out, as GNU tar leaves them out.
// A file named .wh.* is refused (errdefs.ErrUnsafeEntry): a layer's reader
// would take it for a whiteout.
package rootfs
