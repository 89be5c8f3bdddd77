// Package storefs reads Nix store paths, and the trees the tools are
// given, without following a symlink out of them.
//
// A store read with --root DIR is a chroot store, and it may have been
// made by someone else: a store path can be a symlink to /etc, the store
// directory itself can be one, and a directory can be swapped for a
// symlink while a tool is reading. So:
//
//   - ValidName and PathName check store path names the way Nix does: a
//     top-level store path is STORE/<32 characters of Nix's base32>-<name>,
//     and nothing deeper is one.
//   - OpenDirInRoot opens the store directory as a process chrooted to
//     DIR sees it: symlinks on the way are followed inside DIR (an absolute
//     target starts again at DIR, ".." stops there), never out of it. DIR
//     itself is the caller's and is taken as given.
//   - OpenBeneath opens a path below an open directory following no
//     symlink at all, and refuses "..": what is read below a store path is
//     part of that store path. A store path that is a symlink is read as
//     that symlink (fstatat with AT_SYMLINK_NOFOLLOW, readlinkat), as Nix
//     and nixpkgs store it.
//   - OpenListedDir descends into a directory relative to its open parent,
//     without following a symlink, and only into the directory that was
//     listed there.
//   - An Opener opens the files of a walk, in walk order, each relative to
//     its open parent directory, opening each directory once and following
//     no symlink: a directory replaced by a symlink between being listed
//     and being read is refused, not followed.
//   - A DirPath holds the directories of a walk's current path, a bounded
//     window of them open however deep the tree (a tree thousands of
//     levels deep must not need a descriptor per level under a CI
//     runner's or a Nix builder's limit); one it closed is opened again
//     by ".." or by name from the base, and only if it is the same
//     directory (device and inode). The tools' walks and Openers use it.
//
// Both opens use openat2(2) (RESOLVE_IN_ROOT; RESOLVE_BENEATH with
// RESOLVE_NO_SYMLINKS), where the kernel does the resolution atomically.
// On kernels without it (before Linux 5.6, or where a seccomp filter
// hides it) they walk the path one component at a time with O_NOFOLLOW,
// holding a descriptor for each directory on the way, which gives the same
// results; only a directory moved out of DIR by a concurrent rename while
// OpenDirInRoot walks through it is beyond what that walk can see.
//
// Off Linux (macOS, FreeBSD) there is no openat2 and no O_PATH: both opens
// always walk, and each directory on the way is opened with O_RDONLY |
// O_DIRECTORY | O_NOFOLLOW, which no kernel follows, a symlink there
// failing the open (ELOOP, FreeBSD's EMLINK) and being read by name
// instead (walk_portable.go); OpenBeneath refuses it as on Linux, and
// OpenDirInRoot resolves it inside DIR. SearchOnly, the flag of a
// descriptor only searched below, is O_RDONLY there, so a directory that
// may be searched but not read (mode 0311) is refused (EACCES) where Linux
// opens it; StatBeneath looks at its last name with fstatat rather than
// opening it (an O_RDONLY open of a FIFO would wait for a writer). Nothing
// is read that Linux would not read. The tests run the walk as it runs
// off Linux too (bothWays' "portable"), and the build tag
// dockertools_portable (imgkit/internal/offlinux) makes a whole tool take
// it.
package storefs
