// tar-merge flattens an image into one root filesystem tar, merges
// several image archives into one, or assembles images for several
// platforms into one multi-platform image.
//
// Usage:
//
//	tar-merge --flatten [--image NAME[:TAG]] [--platform OS/ARCH[/VARIANT]] [--allow-devices] [-o FILE] [IMAGE]
//	tar-merge [--merge] [--platform OS/ARCH[/VARIANT]] [--compressor none|gz|zstd] [-o FILE] IMAGE...
//	tar-merge --index [--layer-compression gzip|zstd|none] [--tag NAME[:TAG]] [-o FILE] IMAGE...
//
// The modes --flatten, --merge (the default), --index, --unpack and
// --store-paths (see "Unpack and store paths") exclude each other; every mode takes
// --max-expanded-bytes SIZE (see "Bombs" below).
//
// An IMAGE is a docker-archive (docker save, nixpkgs, manifest-gen) or an
// OCI image layout in a tar, uncompressed or compressed with gzip, xz, zstd
// or bzip2; its layers may be uncompressed, gzip or zstd. "-" is stdin,
// the default with --flatten.
//
// # Flatten
//
// The image (the first of the archive, or the one --image names; a name
// without a tag means "latest", and docker.io/library/ may be left out; of
// a multi-platform image, an OCI layout of an image index, the one for
// --platform, default linux and this machine's architecture, chosen as
// docker and skopeo choose from an index: arm/v7 takes arm/v6 when there
// is no v7, amd64 is plain amd64, never amd64/v3; without --platform, one
// that holds a single image gives it whatever its platform, as its
// docker-archive would) has its layers applied bottom first, as the OCI
// image spec and Docker do:
//
//   - a later entry replaces an earlier one at the same path; a directory
//     over a directory keeps its contents and takes the new metadata,
//     extended attributes included (those the entry lacks go, as the OCI
//     image spec and umoci have it; Docker keeps them); a file over a
//     directory removes the directory's contents, and back;
//   - ".wh.NAME" removes NAME as the lower layers have it;
//     ".wh..wh..opq" removes what the lower layers have in its directory;
//     neither touches entries of its own layer;
//   - a hardlink shares its target's file, and its header's mode, owner and
//     time apply to that file (as Docker applies them): both paths keep the
//     content when either is later replaced or removed, and the output keeps them
//     hardlinked while two or more paths survive (a path whose partners
//     are all gone is a plain file with the content); the target may be a
//     file of a lower layer, as containerd and Docker's vfs driver allow
//     (Docker's overlay2 driver refuses such a layer);
//   - directories that layers imply but never list get mode 0755, owner
//     0:0, mtime 0 (umoci and GNU tar make them 0755 too; Docker's vfs
//     driver makes them 0600).
//
// The output is one tar: "./" first, then every directory followed by its
// entries sorted by name in byte order ("./bin/", "./bin/sh", …), as GNU
// tar --sort=name orders them. Each entry keeps the type, mode bits,
// numeric owner, user and group names, modification time (to the second),
// link target, device numbers and SCHILY.xattr.* attributes its layer gave
// it. Same input, same bytes; the output does not depend on how layers
// were compressed. A layer with a uid or gid that is no Linux id (0 to
// 4294967294) is refused, and a 32-bit build (386, arm) refuses one past
// 2147483647, which it cannot write back.
//
// A file its layer stored as sparse (GNU tar --sparse: the old GNU format
// or PAX 0.0, 0.1, 1.0) stays sparse: it is written in GNU's PAX 1.0
// sparse format (records GNU.sparse.major=1, GNU.sparse.minor=0,
// GNU.sparse.name, GNU.sparse.realsize; the ustar name
// "DIR/GNUSparseFile.0/NAME"; the map, then the data, with the holes left
// out), which GNU tar, bsdtar, Go's archive/tar (docker import) and
// Python's tarfile read back with their holes. The map's fragments are
// widened to whole 512-byte blocks, as GNU tar needs them. A tar reader
// that knows no sparse format (busybox tar) extracts such an entry as a
// file named GNUSparseFile.0/NAME holding the map and the data. Files
// stored whole stay whole: holes are never guessed from zeros.
//
// Unsafe entries stop the run with an error naming the layer (1-based,
// bottom first, with its diff_id) and the entry: a name or hardlink
// leaving the root through "..", an entry (or whiteout, or opaque marker)
// below a symlink, a hardlink to itself, to a path that does not exist
// yet or to a directory, a whiteout naming a path outside its directory,
// an entry below a directory named like a whiteout (".wh.x/y"), character
// and block devices unless --allow-devices, a size larger than what the
// layer holds, an unknown type flag, a sparse map that does not account
// for the bytes stored. A truncated layer, or one whose bytes do not hash
// to the config's diff_id, stops it too; so does one past the bound below.
//
// Memory grows with the number of paths (about half a kilobyte each),
// never with the bytes; nothing is unpacked to disk. Pass one reads every layer once, hashing it and
// recording where each file's bytes are; pass two writes the tree, reading
// each surviving file again from its layer. An uncompressed archive file
// is read in place. Stdin, a pipe, or a compressed archive is first
// decompressed into one unlinked temporary file in $TMPDIR (as large as
// the uncompressed archive, freed on exit). A gzip or zstd layer inside
// (OCI) is decompressed a second time in pass two; it is decompressed
// again from its start only if the layer lists its files out of sorted
// order (-v reports how often), or when its decoder was closed to keep
// the open decoders within 1 GiB (the windows their zstd frames declare:
// up to 128 MiB each, 8 MiB for zstd -19 and containerd; xz dictionaries
// count 128 MiB, the most an xz block may declare; the least
// recently read is closed first). Pass one scans as many layers at once
// as there are cores, fewer when their decoders would hold more than
// 1 GiB.
//
// nixpkgs' exportImage needs a KVM VM, always exports the first image and
// ignores opaque whiteouts; this does not.
//
// # Merge
//
// All images of all inputs go into one docker-archive, in input order,
// but of a multi-platform image (an OCI layout of an image index, or a
// docker save of one, whose manifest.json lists the saving daemon's
// platform only) only the image for --platform, chosen as --flatten
// chooses it (default linux and this machine's architecture; one holding
// a single image gives it): a docker-archive holds no index, and every platform's image with the
// index's tag would leave the tag, in docker load, on the last of them,
// whatever machine loads it. No image for the platform is an error naming
// those there are.
//
//   - each image keeps its RepoTags; a tag found on two images stays on the
//     later one (as docker load of the inputs in order leaves it), with a
//     warning; a tag without ":TAG" gets ":latest"; a tag docker does not
//     accept (an upper-case or empty name, a space, a tag past 128
//     characters) is an error, as it is for docker load;
//   - a layer shared by several images (same diff_id) is stored once,
//     uncompressed, verified as it is copied; a config as
//     "<digest hex>.json"; one manifest.json entry per distinct config;
//   - `repositories` holds every tag, by repository, naming the image's
//     top layer directory; entries of the inputs' `repositories` files that
//     RepoTags lack are added as tags (nixpkgs' mergeImages replaces
//     whole repositories and writes null when no input has one), those
//     docker would not accept dropped with a warning;
//   - the archive is written as manifest-gen writes one: the layers first,
//     named by position ("000/layer.tar", …) in the order the images first
//     list them, then the configs, manifest.json (nixpkgs' indented JSON)
//     and repositories; every member mode 0644, owner 0:0, mtime 1.
//
// --compressor sets the output's compression, whatever the inputs had
// (nixpkgs takes the last input's). gz and zstd output is deterministic.
//
// # Index
//
// --index assembles images built for several platforms (amd64 and arm64
// builds of one program, say) into one OCI image index, so that one tag
// serves each client the image for its platform. Every image of every
// input goes in; each one's platform is what its config names: os,
// architecture, variant, os.version and os.features (stream-layered-image
// --architecture and --variant write them). An image whose config names no
// os or architecture, or the os or architecture "unknown" (the platform
// of attestation manifests, which clients skip), and two images for the
// same platform as Docker and containerd compare platforms (arm64 and
// arm64/v8 are one, so are arm and arm/v7, x86_64 and amd64, Linux and
// linux; os.features are a set), are refused with one line naming both;
// so is an image without layers (docker save writes one for a FROM
// scratch build that only sets config), whose manifest the image-spec's
// schema refuses and push-blob would not push.
// The output is an OCI image layout in a tar:
//
//	oci-layout          {"imageLayoutVersion":"1.0.0"}
//	blobs/sha256/<hex>  each image's layers (a layer several images share
//	                    once), config and manifest, then the image index
//	index.json          one entry: the image index; with --tag NAME[:TAG]
//	                    its annotations name it (io.containerd.image.name,
//	                    the full name; org.opencontainers.image.ref.name,
//	                    the tag; as manifest-gen --format oci names an
//	                    image), else none
//
// The image index lists one image manifest per platform, each with its
// platform, sorted by os, architecture, variant, os.version and
// os.features; images are written in that order too, so the bytes depend
// on the images alone, not on the order of the inputs. Each config is kept verbatim (an image's ID
// stays its config's digest); manifests and the index are compact JSON in
// the image-spec's field order, as manifest-gen --format oci writes them.
//
// --layer-compression (default gzip) says how layers are stored. A layer
// the input already stores so (an OCI blob of that compression, or an
// uncompressed layer with none) is copied as it is, after a first read
// that checks it against its digest and diff_id; any other is
// decompressed, checked, and compressed with the deterministic recipe of
// imgkit/oci into one temporary file in $TMPDIR, which names its blob.
// gzip is push-blob's default too: push-blob (push-image) pushing the
// output with the same --layer-compression puts the same manifests and the
// same index in the registry, so the tag's digest is the one index.json
// names. --compressor compresses the whole tar, as in a merge.
//
// skopeo reads the output as oci-archive:FILE (with --override-arch to
// pick an image), tar-merge --platform and manifest-gen --from-image
// (--architecture) take the image for a platform from it, as docker and
// skopeo choose from an index, and push-blob pushes it as one
// multi-platform tag.
//
// # Unpack and store paths
//
//	tar-merge --unpack DIR [--snapshot FILE] [--image NAME[:TAG]] [--platform OS/ARCH[/VARIANT]] [--allow-devices] [IMAGE]
//	tar-merge --store-paths [--store-dir DIR] [--image NAME[:TAG]] [--platform OS/ARCH[/VARIANT]] [IMAGE]
//
// --unpack applies the image's layers onto the existing directory DIR
// (normally empty), bottom first, with the rules of --flatten: whiteouts and
// opaque markers remove what lower layers put there, unsafe entries stop it,
// every layer is verified. Owners, modes (set-id bits too), symlinks,
// hardlinks, times and extended attributes are kept (an attribute this
// process may not set, such as trusted.* in a user namespace, is left out,
// and so are the host's own, which a layer neither sets nor removes:
// security.* labels but security.capability, trusted.overlay.*, system.*);
// directory modes and times are set last; a directory no entry names (etc
// of etc/passwd) is 0755, as --flatten and umoci make it, whatever the
// umask or a default ACL would give. An
// owner this process may not give (an id outside its user namespace) leaves
// the file with the process's owner and is remembered in --snapshot FILE,
// which records every path as it is afterwards: layer-pack --changes
// --snapshot FILE packs what changed since (build-image --run-as-root runs
// both inside a user namespace); FILE is written beside itself and
// renamed into place, as -o FILE is (a symlink there is replaced, not
// written through). Nothing goes to stdout.
//
// A sparse file is written as holes: its data where its map says, then
// the file is extended to its size. When an entry stops the run, DIR keeps
// what the layers applied before it, and nothing of that entry (a file cut
// short is removed); build-image discards DIR then.
//
// --store-paths prints the store paths (/nix/store/NAME) that the image's
// file system holds once its layers are applied, one per line, sorted: the
// paths a new layer on this image can leave out.
//
// # Bombs
//
// A few kilobytes of layer can stand for terabytes: a sparse file of
// 1000 GiB is a 10 KB tar; zstd shrinks a gigabyte of zeros to a few
// kilobytes. --max-expanded-bytes SIZE (default 64GiB; a number of bytes,
// optionally followed by K, M, G, T or KiB, MiB, GiB, TiB) bounds what
// each layer may expand to: its uncompressed tar, plus the holes of its
// sparse files, counted as --flatten, --unpack and --store-paths read
// it. Past SIZE the run stops at once with "tar-merge: layer N
// sha256:…: entry "NAME": expands past SIZE bytes (--max-expanded-bytes)"
// and leaves no output file. The same bound applies to decompression
// wherever tar-merge decompresses: a compressed archive's temporary copy,
// and each compressed layer a merge copies (a merge copies the tar as
// stored and fills no holes). 64 GiB is far above real layers, which
// rarely reach 10 GiB, and far below what fills a disk or takes hours to
// read; raise it for an image with a larger layer. A fixed bound, rather
// than a multiple of the compressed size, because real layers of
// preallocated or zero-filled files compress a thousandfold too. A zstd
// archive or layer whose frames need a window of more than 128 MiB (the
// memory its decoder holds; zstd -d refuses it too without --memory) is
// refused as well, and so is an xz one with a block declaring a dictionary
// of more than 128 MiB (xz -9 writes 64 MiB).
//
// Manifests that name the same config, layer or nested index over and over
// are bounded too, whatever the flag: an input may hold at most 16384
// images, 65536 layers in all (a layer counted each time an image lists
// it) and 256 MiB of manifests, indexes and configs to read (each counted
// every time it is named).
//
// # Output and exit status
//
// The tar goes to stdout, or to -o FILE, which is written next to FILE and
// renamed into place only when complete. Exit status 0 when the output is
// complete; 1 for bad or unsafe input, an input past --max-expanded-bytes,
// a digest mismatch or an I/O error (one line on stderr: "tar-merge:
// context: cause"; a name longer than 200 bytes is cut, with its length);
// 2 for a usage error.
//
// # Examples
//
//	manifest-gen --name hello < layers.tar | tar-merge --flatten > rootfs.tar
//	tar-merge --flatten --image redis:7 -o rootfs.tar images.tar.gz
//	tar-merge --compressor zstd -o both.tar.zst bash.tar redis.tar.gz
//	tar-merge --index -o hello.oci.tar hello-amd64.tar hello-arm64.tar.gz
package main
