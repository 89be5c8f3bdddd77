// layer-pack writes the layers of an image as a layer stream: one
// deterministic tar per planned store layer, byte-identical to the layer
// nixpkgs' streamLayeredImage writes for the same paths, then the
// customisation layer, each hashed as it streams.
//
// Usage:
//
//	layer-pack [flags] < plan.json > layers.tar
//	layer-pack --conf conf.json > layers.tar
//
// # Input
//
// A layer plan on stdin (docs/formats.md §2): a JSON array of arrays of
// store paths, bottom layer first, as popularity writes it and as nixpkgs'
// conf.json holds it under store_layers. With --conf, nixpkgs' stream
// configuration (conf.json) is read instead: store_layers, store_dir,
// customisation_layer (a directory with layer.tar and checksum), mtime (or
// created, in configurations older than mtime), uid and gid (strings or
// numbers, each 0 to 4294967294, a Linux id), uname and gname (at most 255
// bytes, a Linux login name's bound: they are in every entry); the image
// fields are manifest-gen's. It is read as nixpkgs' script reads it, with
// Python's json.load: keys are matched exactly ("STORE_LAYERS" is not
// store_layers), a repeated key's last value counts, and nothing may
// follow the object. Flags given explicitly override the configuration.
//
// Every path must be a top-level store path of the store directory
// (--store-dir, default $NIX_STORE_DIR, else /nix/store): STORE/<hash>-<name>
// with a 32-character hash part in Nix's base32 and a name Nix accepts,
// nothing deeper, and it must exist. Paths are logical: the file of path P
// is read at DIR/P with --root DIR, and layers hold P.
//
// Nothing outside the store paths is ever read, whatever the store holds.
// With --root DIR, the store directory is resolved as a process chrooted
// to DIR would resolve it (symlinks on its way stay inside DIR); below it,
// no symlink is followed: a store path that is a symlink is packed as that
// symlink, and every directory and file is opened relative to its parent
// without following one, so a directory replaced by a symlink while
// packing is an error, never a way out (imgkit/storefs). The customisation
// directory, --customisation-tar FILE and the configuration's
// customisation_layer directory are taken as given, but nothing below the
// directories is followed out of them either.
//
// # Output
//
// A layer stream on stdout (docs/formats.md §3): layers/000.tar,
// layers/001.tar, … one per planned layer in plan order, then the
// customisation layer if one is given, then stream.json with each layer's
// diff_id and size, its store paths, and for the customisation layer
// either the configuration's customisation_layer directory as its path
// (what nixpkgs' history comment shows) or the comment of
// --customisation-comment (default "customisation layer").
//
// Each layer's exact size is computed from file metadata before its first
// byte is written. With one CPU every file is read once: one goroutine
// walks the tree and reads files ahead into a fixed pool of 1 MiB buffers
// while another hashes and writes. With more, one sha256 stream (one
// core) would be the bound: layers are hashed apart from the ordered
// output, up to four at once, each by a goroutine that makes the layer's
// tar again (reading its files a second time, from the page cache) while
// the layers are written in order unhashed; the trailer waits for the last
// digest. The layer of the most store paths (popularity's last store
// layer, which holds most of the bytes) is measured and hashed first, so
// its sha256, the longest single stream, starts at once. The writer does
// not open those files again: it takes each file's descriptor from the
// hashing pass (past 8192 held at a time, or a quarter of the process's
// limit on open files when that is less, it opens the file), and within a
// layer never gets ahead of that pass.
// Files not in the page cache are asked for ahead of the passes
// (posix_fadvise), so that a cold cache is read with many files in
// flight. When stdout is a pipe or a file, the ordered writer does not read
// those layers' files of 64 KiB or more at all: the kernel copies them
// into the output (splice, copy_file_range), so each of their bytes is
// read once, by the hashing pass. The output is the same bytes either way. The entries found while
// measuring a layer are kept (compactly, up to about 90,000 per layer on
// two CPUs) so that no pass walks it again; memory stays under 64 MB
// whatever the image size. A layer with more entries is walked again by
// the writer, which then hashes it as it writes it (not apart): two
// walks could not tell that a file changed between the hashing pass and
// the writer's. A file that changes size, type or change time,
// or vanishes, between being measured and being read is an error naming
// it, never a layer whose bytes disagree with its header or its digest;
// a change time that moved with the link count while the modification
// time stayed Nix's canonical 1 is not (no write happened: Nix's store
// optimisation linked another store path's identical file to it, as a
// concurrent nix-build with auto-optimise-store does, or garbage
// collection unlinked one). A file that `nix-store --optimise`
// replaces meanwhile (it renames /nix/store/.links' identical file over
// it) is not either: a regular file of the same size and permission bits
// with the modification time 1 is taken where the bytes hashed are the
// bytes written (one pass hashes and writes the layer; the hashing pass
// keeps the copy's descriptor for the writer's; the writer reads the
// descriptor the hashing pass kept, which still reads the file it
// hashed). Where they would not be (the hashing pass could keep no
// descriptor, and the writer would open whatever the name holds then),
// it is an error, "was replaced while packing (nix-store --optimise?):
// run again". The output can then be partial: a consumer must treat a
// non-zero exit as failure (workflows write to a temporary file).
//
// # Store layers: the byte rules (nixpkgs' stream_layered_image.py)
//
//   - First the directories /nix/ and /nix/store/ (always that literal
//     /nix, whatever the store directory), mode 0755.
//   - Then each planned path in plan order: a path that is a symlink gives
//     that symlink; otherwise the path and everything below it, never
//     following symlinks, in Python pathlib order (component by component,
//     by code point: x, x/y, x-z; .hidden, B, a, ünï).
//   - Names are absolute (/nix/store/…); directories end with /.
//   - Mode is st_mode & 07777 from disk; uid, gid, uname, gname and mtime
//     are forced on every entry (--uid --gid --uname --gname --mtime;
//     defaults 0, 0, root, root, 1970-01-01T00:00:01Z). --mtime accepts
//     what nixpkgs accepts: ISO 8601 with Z or an offset such as +00:00
//     (a time without one is UTC), and now.
//   - Hardlinks are stored as regular files with their content.
//   - Headers are CPython tarfile's PAX_FORMAT: a ././@PaxHeader record
//     block for names or link targets over 100 bytes or not ASCII, owner
//     names over 32 bytes or not ASCII, sizes of 8 GiB or more; the ustar
//     name then holds the first 100 bytes with '?' for non-ASCII. File data
//     is padded to 512 bytes; the tar ends with two zero blocks and is
//     padded to a multiple of 10240 bytes. (imgkit/tarw has every rule.)
//   - A file named .wh.* is refused: it would be a whiteout in the image.
//     A socket is refused.
//
// # The customisation layer
//
// One of:
//
//	--customisation-dir DIR   DIR packed exactly as nixpkgs packs it:
//	                          tar --sort name --numeric-owner --mtime @315532800
//	                          --hard-dereference -cf layer.tar . (GNU tar 1.34, gnu
//	                          format: ./, ./bin/, …; uid/gid/mode from disk; owner
//	                          names empty; long names as ././@LongLink; sockets
//	                          left out with a warning; .wh.* files refused)
//	--customisation-tar FILE  a ready layer tar, copied byte for byte
//	conf.json                 customisation_layer/layer.tar, which must hash to
//	                          customisation_layer/checksum
//
// A ready layer tar's headers are read first (its data skipped): a file
// that is no tar, or a tar cut short, is an error, not a layer no runtime
// reads.
//
// With --customisation-dir, --fakeroot-state FILE applies the state that
// `fakeroot -s FILE -- sh -c '…'` saved: files it lists get its owner,
// mode and device type (chown, chmod and mknod in fakeRootCommands
// survive), every other file is owned by 0:0, as tar run inside that
// fakeroot session would see them (fakeroot cannot affect a Go program
// directly). An empty FILE gives plain 0:0 ownership; an owner past
// 4294967294 (no Linux id) is a malformed state. --exclude PATH
// (repeatable; ./dev, ./proc, ./sys and the store directory for
// enableFakechroot) leaves out PATH and everything below it.
//
// # The buildImage layer (--changes)
//
// --changes DIR writes one layer instead, as nixpkgs' buildImage packs its
// single layer (build-image uses it): DIR in GNU tar's order and format
// ("./", "./bin/", …; mode from disk; every mtime 1980-01-01, or --mtime;
// hardlinks as separate files; sockets left out; .wh.* files refused),
// then the files of every path of the plan, all in this one layer, owned
// by 0:0, with /nix/ and /nix/store/ (0755) when DIR lacks them. Owners of
// DIR's entries come from disk, or --changes-owner UID:GID. With
// --snapshot FILE (written by tar-merge --unpack --snapshot), only what
// changed in DIR since then is packed: new and changed paths, a ".wh.NAME"
// whiteout for each deleted one, and an opaque directory (".wh..wh..opq"
// and its whole subtree) for a directory that was replaced or emptied; a
// path whose owner the unpack could not give keeps the owner the base
// layer asked for (see imgkit/rootfs). The layer is measured by writing it
// to a temporary file in $TMPDIR, unlinked as soon as it is made (nothing
// is left behind, even when the run is interrupted), its blocks of zeros
// left as holes: a sparse file (a root file system's /var/log/lastlog) is
// stored whole in the layer, as nixpkgs and Docker store it, but its holes
// take no space there. Its entries are listed and sorted in memory first,
// so memory grows with their number, unlike the store layers': a directory
// of a million files took about 350 MB.
//
// # The layer cache (--cache, --reuse)
//
// --cache DIR records, for every store layer packed, its diff_id and size
// under a key of its store paths (in order) and every parameter that shapes
// its bytes: store directory, mtime, uid, gid, uname, gname and the version
// of these byte rules (imgkit/layercache; DIR is created when missing and
// may be shared by concurrent builds of one user: it must be the user's
// own and writable by nobody else, and no record is followed out of it).
// Store paths are immutable, so the key stands for the bytes; the
// customisation layer and --changes are never cached. A cached layer that
// packs to other bytes (a store modified by hand) is a warning, and its
// entry is replaced. Each record carries a checksum of itself: one that
// does not verify (edited, cut short, or written by an older version
// without a checksum) is ignored, as a miss (-v says so), and written
// again once the layer is packed.
//
// --reuse FILE (with --cache) reads what the destination registry holds,
// as push-blob --list-present writes it (docs/formats.md §5). A store layer
// whose diff_id the cache knows and FILE lists is written as a reference
// member (layers/NNN.ref, docs/formats.md §3) carrying FILE's blobs:
// nothing under its paths is listed, stat'ed or read (each path is still
// checked to exist). The stream then goes to manifest-gen --format stream
// and push-blob, which refer to the blob instead of uploading it:
//
//	push-blob --list-present --dest REG/app:latest > held.json
//	layer-pack --cache ~/.cache/layers --reuse held.json < plan.json |
//	    manifest-gen --format stream --name app | push-blob --dest REG/app:latest
//
// An OCI layout directory that manifest-gen wrote is a destination too:
// manifest-gen --format oci-dir -o DIR --print-holdings writes its list,
// and manifest-gen --format oci-dir -o DIR links each reference's blob
// instead of writing it again. So is a directory of layer tars for a
// docker-archive: manifest-gen --layer-tars DIR --print-holdings lists it,
// and manifest-gen --layer-tars DIR copies each reference's tar from it.
// A layer FILE lists uncompressed (the blob's digest is the diff_id) at
// another size than the cache's is not referred to but packed (-v says
// so): the destination's copy is damaged, and the consumer replaces it.
//
// # Exit status
//
// 0 when the stream is complete; 1 for a missing store path, a path
// outside the store directory or not a top-level store path, a malformed
// plan, configuration or fakeroot
// state, a plan of more layers (with the customisation layer) than the
// 125 runtimes accept, a refused or changed file, a checksum mismatch, or an unwritable
// output; 2 for a usage error. Errors are one line on stderr. When the
// reader of stdout goes away, layer-pack ends quietly with a non-zero
// status.
//
// # Example
//
//	closure-scan ./result | popularity --max 99 \
//	  | layer-pack --customisation-dir ./root \
//	  | manifest-gen --name hello > hello.tar
//
//	layer-pack --conf "$(nix-build -A hello-image.conf)" > layers.tar
package main
