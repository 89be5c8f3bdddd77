// manifest-gen turns a layer stream into an image archive that docker load,
// podman load and skopeo read: the last filter of the pipeline.
//
//	manifest-gen --name NAME [--tag TAG] [flags] [STREAM] > image.tar
//
// # Input
//
// A layer stream (docs/formats.md §3) on stdin or in the file STREAM, as
// layer-pack and pull-blob write it: layer tars named by position, an
// optional config.json, and the stream.json trailer with each layer's
// diff_id, size, store paths or history comment. Layers are copied to the
// output as they arrive: memory stays flat whatever the image size, and
// nothing is written to disk (but --format oci's spool, below). For a
// docker-archive without --verify, --compressor or --digest-file, when the
// stream and the output are files or pipes, the kernel moves each layer's
// bytes (splice, copy_file_range): manifest-gen never reads them.
//
// The stream's structure (names, order, sizes, trailer) is always checked.
// Its diff_ids are checked against the bytes whenever manifest-gen reads
// them anyway: for --format oci, oci-dir and stream, for --layer-tars, and
// for a docker-archive it compresses (--compressor gz or zstd, the
// workflows' default gz), where the sha256 is taken on a goroutine of its
// own as the bytes pass (so is --verify's). Measured on a shared 2-core
// machine (load 7-15, 2026-12-07) with a 580 MB layer, manifest-gen's CPU
// time: gz 4.8-5.4 s without the check and 5.3-5.9 s with it, zstd
// 2.9-3.2 s and 3.1-3.7 s (about a tenth more; the machine was too busy
// for wall times to compare). An uncompressed docker-archive is the
// kernel's to copy, unread, and its diff_ids are trusted unless --verify.
// Hashing every byte there is the one costly thing manifest-gen could do:
// measured on a shared 2-core machine with a 1 GB store (hashed in line
// then), `layer-pack | manifest-gen` took 1.1-1.6 s without it and
// 1.7-2.5 s with it (manifest-gen's own CPU time 0.25-0.35 s against
// 0.9 s), far over the 10% we accept for a default, and layer-pack has
// just hashed the same bytes. Use --verify when the stream comes from
// elsewhere; docker load and skopeo check every diff_id anyway.
//
// # Output
//
// By default (--format docker), Docker's docker-save layout (Image Spec
// v1.2), an uncompressed tar (OCI layouts and a stream for push-blob are
// below):
//
//	000/layer.tar …     the layers, bottom first, named by position
//	<sha256>.json       the image config; its sha256 is the image ID
//	manifest.json       [{"Config": …, "RepoTags": ["NAME:TAG"], "Layers": […]}]
//	repositories        {"NAME":{"TAG":"<top layer's directory>"}}, legacy
//
// Layer members are named by position, not by digest, because the digest
// is known only after the bytes (and equal layers then never share a name).
// Every member has mode 0644, owner 0:0, no user names and mtime
// 1970-01-01T00:00:01Z, so the archive's bytes depend only on its content.
// Each layer's bytes start at a multiple of 4096 bytes from the start of
// the archive (a PAX comment record pads its header where needed, which
// readers ignore), so that a layer copied from a file of its own
// (--layer-tars) can share that file's extents (docs/formats.md §4).
// --compressor gz or zstd compresses the whole output (any format but
// oci-dir) as nixpkgs' compressor parameter does, with deterministic bytes.
// --digest-file FILE writes the sha256 of the output as written (compressed
// or not) to FILE, so that a caller pinning it (pull-image --sha256) need
// not read the archive again; FILE is made before the output is written
// and renamed into place with it, as -o FILE is (a symlink there is
// replaced, not written through).
//
// The config is byte-identical to the one nixpkgs' streamLayeredImage
// writes for the same inputs, so the image ID is the same: Python's
// json.dumps(indent=4) (ASCII escapes, no final newline) with the keys
// created, architecture, os, config, rootfs, history; created in Python's
// isoformat (1970-01-01T00:00:01+00:00); one history entry per layer whose
// comment is the trailer's comment, or "store paths: " and the Python repr of
// the layer's paths (a layer with neither has no comment). created is
// --created (default 1970-01-01T00:00:01Z; now is the current time),
// architecture --architecture (default this machine's, in Go's names), os
// --os (default linux); --variant adds a variant key after os (nixpkgs
// writes none). These, and a --conf's architecture, are names as Go
// writes them (lower-case letters and digits, with _ . - inside); others
// are a usage error (Docker 20.10's load crashes on the os "Linux"). When
// the stream carries a config.json (a pulled image),
// that config is written verbatim, so the image ID stays the registry's
// config digest; options that would change it are then a usage error.
//
// # Other output formats (--format)
//
// --format oci writes an OCI image layout in a tar: oci-layout, index.json
// (one image, annotated with the tag as org.opencontainers.image.ref.name
// and the full name:tag as io.containerd.image.name, as Docker normalises
// it: docker.io/library/hello:1.0 for hello:1.0), blobs/sha256/<hex>
// for every layer, the config and the manifest, and Docker's manifest.json
// pointing at the same blobs, so docker load reads it whether it reads
// index.json (Docker 25 and later) or only manifest.json (Docker 20.10).
// skopeo reads it as oci-archive:FILE[:TAG], umoci once unpacked. The
// config is the same bytes as in a docker-archive: the image ID does not
// depend on the format. Equal layers share one blob; manifests and indexes
// are compact JSON in the image-spec's field order (imgkit/oci).
//
// --format oci-dir -o DIR writes the same files into the directory DIR
// (skopeo's oci:DIR:TAG, umoci's --image DIR:TAG). DIR must be no mount
// point (a rename cannot replace one: give a directory inside it) and new,
// empty or a layout manifest-gen wrote (exactly oci-layout, index.json listing
// one image manifest, manifest.json and regular files named by their
// digest in blobs/sha256, no symlink: anything else is refused, DIR may
// be anyone's; so is a layout another tool has added an image to, with
// skopeo copy … oci:DIR:TAG or umoci tag, which the rebuild would drop,
// also when it is added during the build, and one listing an artifact
// about no image of it). Artifacts about its image (an SBOM oras attach
// --oci-layout attached, whose subject it is; a cosign signature,
// attestation or SBOM tagged sha256-HEX.sig, .att or .sbom; a referrers
// index, an image index of referrers alone (artifacts, or image indexes
// with a subject, whose manifests and blobs come with them, at most 4
// deep) tagged sha256-HEX or whose referrers all have the image as
// subject, as the image-spec's referrers
// tag schema keeps them where there is no referrers API: oras cp of that
// tag from a registry, regctl's ocidir; an empty ingest directory oras
// leaves) describe its image: a rebuild that
// writes the same image manifest keeps them (their blobs linked, their
// entries after the image's), one that changes it drops them with a
// warning naming how many, as does one that cannot keep them (a blob of
// theirs gone, DIR not the user's alone), saying why. The layout is built in a
// temporary directory beside DIR, each blob written to a temporary file,
// forced to disk (fsync: a rebuild takes DIR's blobs on their names) and
// renamed to its digest, and when complete it takes DIR's place in one
// rename (Linux's renameat2 RENAME_EXCHANGE for a
// layout already there): a reader sees the old layout or the new one.
// That directory, .DIR.tmp-N, is removed on failure or interruption; a
// build killed with SIGKILL (the OOM killer, a timeout) cannot remove
// it, and the next build into DIR does. Each build holds a lock (flock)
// on its own until it exits, which the kernel drops when it dies: one a
// live build holds is never removed.
//
// Rebuilding into a layout it wrote copies nothing that has not changed.
// --print-holdings lists DIR's layers as a holdings list (docs/formats.md
// §5) in the --layer-compression given and exits, reading no stream:
// uncompressed, every blob as the layer tar of its own digest; gzip or
// zstd, each blob of that compression that DIR's manifest and config pair
// with a diff_id (a compressed blob's digest is not its diff_id, so the
// layout's own JSON ties them). layer-pack --cache C --reuse on that list
// writes the store layers that C knows and DIR holds as references,
// reading none of their files; and a reference becomes a hard link to
// DIR's blob of the layout's compression: the blob keeps its inode and
// mtime, no byte of it is read or written. A blob is taken on its name
// (its digest), its size, mode 0644 and owner (the user: another user
// could rewrite it through a hard link), and for a compressed blob on
// DIR's pairing, never opened or hashed again: hashing would read what the
// rebuild is meant not to; the link is checked to be the file listed, so
// a name swapped for a symlink meanwhile is refused. A blob damaged
// since it was written (its bytes changed, its name, size and mode not)
// thus goes into the new layout under a digest it does not have, which
// skopeo and umoci refuse when they read it; --verify hashes each blob a
// reference links, and those of the artifacts kept (above), and fails on
// a mismatch, leaving DIR as it was (a
// 2 GiB layer costs seconds: 4.4 to 7.7 s with the blob cached, 10 s
// not, on a loaded 2-CPU machine, against 0.02 to 0.08 s for the
// links). So DIR, blobs and
// blobs/sha256 must be the user's own and writable by nobody else for
// --print-holdings and a reference (whoever can write them decides the
// bytes under a blob's name), as for --layer-tars; a rebuild without
// references takes nothing from DIR. A compressed blob is
// reused as it is: were the compressor's bytes to change in a later
// version (imgkit/compress's recipe), a rebuild would keep the old
// compressed bytes where a fresh build writes new ones, both of the same
// layer. Blobs the new image no longer references are removed with the
// old layout, so DIR ends as the same files as a fresh build into an
// empty directory (keeping them would grow DIR with every rebuild, and a
// layout's unreferenced blobs serve no reader). A reference DIR does not
// hold, or holds in no blob of the layout's compression, is an error, and
// leaves DIR as it was.
//
//	manifest-gen --format oci-dir -o DIR --print-holdings > held.json
//	layer-pack --cache C --reuse held.json < plan.json |
//	    manifest-gen --name app --format oci-dir -o DIR
//
// --layer-compression none|gzip|zstd (oci and oci-dir only) stores layers
// uncompressed (the default) or compressed with gzip or zstd at the default
// level, no names, no times: the same layers give the same bytes, and the
// same manifest digest, on every run and machine (for one version of
// klauspost/compress; imgkit/oci pins them). Layers from the stream and
// from --from-image are compressed alike. Docker 20.10 cannot load zstd
// layers, and umoci 0.4.7 cannot unpack them; skopeo can.
//
// A tar member's header needs its name before its bytes, and an OCI blob is
// named by its digest: so with --format oci each layer is compressed into
// one temporary file in $TMPDIR (unlinked at once; it holds one stored
// layer at a time) and then copied into the tar. Measured on the shared
// 2-core machine with a 1.6 GB two-layer stream: written to a file,
// docker-archive and oci (uncompressed) both took 6.5 s, the disk being the
// limit; to /dev/null, 0.4 s against 4.9 s, the spool's write and read.
// gzip took 15.6 s and zstd 12.2 s (about 100 MB/s and 130 MB/s).
// oci-dir writes each blob once, where it stays: no spool.
//
// -j N compresses up to N layers at once. Each layer is compressed by the
// same deterministic writer and the layout is written in layer order, so
// the bytes do not depend on N (tested with layers finishing out of
// order). The stream delivers one layer at a time, so a layer handed to
// another compressor must first be copied to a temporary file; the reading
// goroutine compresses the others itself, from the stream. Whether that pays
// depends on idle cores and a fast temporary directory: on the shared
// 2-core test machine, busy with other work (load about 4), a 2.2 GB image
// of 100 layers took 19.6 s with -j 1 and 23.6 s with -j 2 (the copies
// doubled the system time), so the default is 1.
//
// --format stream writes a layer stream again (docs/formats.md §3): the
// base image's layers and the stream's, then the image config as its
// config.json and the trailer. It is the input of push-blob, which pushes
// the image without an archive in between; the layers are hashed as they
// pass, and reference layers (layer-pack --reuse: no bytes, a blob the
// registry holds) pass through. Only this format, an oci-dir rebuild and
// a docker-archive with --layer-tars (below) accept references: the others
// need every layer's bytes.
//
// The diff_ids that oci, oci-dir and stream compute while writing are
// compared with the stream's trailer: a mismatch is an error, as with
// --verify.
//
// # Incremental docker-archive builds (--layer-tars)
//
// A docker-archive holds every layer's bytes, so a rebuild cannot link
// them as an oci-dir rebuild does; with --layer-tars DIR it copies them
// from a directory of layer tars instead of packing them again:
//
//   - a build keeps each store layer of the stream (a trailer entry with
//     paths: the layers layer-pack --cache can refer to; not the
//     customisation layer or base layers) as DIR/<hex of its diff_id>.tar,
//     copied as it passes to a temporary file in DIR and renamed into
//     place once the archive is complete (forced to disk first, fsync: a
//     crash or power cut never leaves an entry named for bytes it does
//     not hold), and hashed on the way, with or without --verify: an
//     entry is taken by its name in every later build, so a layer whose
//     bytes do not hash to the trailer's diff_id fails the build rather
//     than be stored under it; a failed run stores nothing, and one
//     killed with SIGKILL leaves its temporary directory DIR/.tmp-N,
//     never a half entry, which the next build with DIR removes (as for
//     -o DIR above: a live build's is never taken). DIR is made when missing;
//     nothing is ever removed from it (remove old entries, by access time,
//     to trim it);
//   - --layer-tars DIR --print-holdings lists every entry (a regular file
//     named by a diff_id, the user's and writable by nobody else) as a
//     holdings list (docs/formats.md §5), the
//     uncompressed layer tar of that diff_id at the file's size, and
//     exits, reading no stream; a DIR that does not exist holds nothing;
//   - layer-pack --cache C --reuse on that list writes the store layers C
//     knows and DIR holds as references, reading none of their files
//     (an entry whose size is not its layer's is not referred to: the
//     layer is packed again and the entry replaced);
//   - a reference layer is copied from DIR's entry into the archive. When
//     the archive goes uncompressed to a file (-o FILE, or stdout
//     redirected to one), without --digest-file, the copy is the kernel's
//     (copy_file_range: no byte passes through manifest-gen); otherwise
//     (a compressor, a digest, a pipe) the bytes are copied through the
//     process as any layer's. The archive is still written whole: on ext4
//     the kernel copies every byte, so the rebuild saves reading the
//     store, not writing the archive (the bench's rebuild-archive row;
//     the README's Performance gives its latest figure). XFS and Btrfs
//     share the extents instead (a reflink: every layer's bytes start
//     4096-aligned in the archive, as at the start of DIR's entry), with
//     DIR and the archive on one file system (the rebuild-archive-xfs
//     row).
//
// scripts/build-layered-image --cache C --layer-tars T runs these steps:
//
//	manifest-gen --layer-tars T --print-holdings > held.json
//	layer-pack --cache C --reuse held.json < plan.json |
//	    manifest-gen --name app --layer-tars T -o app.tar
//
// What is trusted: DIR must be a directory of this user's that group and
// others cannot write (else it is refused, for a build and a listing),
// since whoever writes it decides the bytes of the layers copied from it.
// An entry is opened without following a symlink, must be a regular file
// (a FIFO is not waited on) of exactly the size the reference gives, the
// user's and writable by nobody else (a hard link to another user's file
// is theirs to rewrite), and
// is otherwise trusted by its name: its bytes are not hashed again, which
// would read what the rebuild is meant not to. --verify hashes each
// cached tar as it is copied and fails on a mismatch (the copy then
// passes through the process). Only --format docker reads DIR.
//
// # Name and tag
//
// --name is lower-cased, as nixpkgs does, and may start with a registry
// host; --repo-tag NAME[:TAG] gives both, written as given (see nixpkgs'
// configuration, below). Without --tag the tag is the first 32 hex
// digits of the config's sha256: reproducible, and different whenever the
// image is; --tag "" (an unset variable) is refused, not read as no tag.
// The name is one docker, podman, containerd and skopeo all read, and
// show alike: the reference grammar's, at most 255 bytes with the
// docker.io/library/ docker adds (a 238-byte "aaa…" loads nowhere), and
// no host that is one only by its upper case ("Foo/bar", which podman
// refuses). nixpkgs checks none of it.
//
// # Base image
//
// --from-image reads a docker-archive or an OCI layout tar, uncompressed or
// compressed with gzip, xz, zstd or bzip2; --from-image-name and
// --from-image-tag pick an image of a multi-image archive (default: the
// first). Of a multi-platform image (an OCI layout of an image index, as
// build-index and skopeo copy --all write, or docker save of one with
// Docker's containerd image store, whose manifest.json lists the saving
// daemon's platform only) the image for the platform
// being built (--os, --architecture, --variant) is taken, as pull-blob
// chooses from a registry's index (arm is arm/v7, which takes v6 when
// there is no v7; amd64 is plain amd64), whatever the order of the index;
// none for it is an error naming the platforms it has, even when it holds
// one image only (the image built would claim a platform its base layers
// are not for). A base of one platform whose config names another than
// the one being built, and whose programs do not run there (an arm64 base
// of an amd64 image; an arm/v6 base of an arm/v7 one runs), is built upon
// as nixpkgs builds upon it, with one warning line naming both platforms.
// A compressed archive or layer that decompresses past 64
// GiB is refused, as by tar-merge's default --max-expanded-bytes (a few
// kilobytes of zstd hold terabytes). Its layers come first, copied verbatim and
// verified against the diff_ids of its config, and count against
// --max-layers; their history
// comment is "store paths: ['<member in the base archive>']", as nixpkgs
// writes it. The base's config, history and empty_layer are found as
// docker load's decoder finds them, whatever their case ("Config" is
// config; two members naming one are an error). The base config's Env is
// inherited as nixpkgs does: base
// entries then ours, one entry per variable at the position of its first
// occurrence with the value of its last. --inherit-config inherits every
// config field as a Dockerfile FROM does: ours replace the base's, Labels,
// ExposedPorts and Volumes are merged, an Entrypoint of ours without a Cmd
// drops the base's Cmd, OnBuild is not inherited; a base field of a type
// its readers refuse (as --config's are checked) is an error.
// --keep-base-history keeps the base config's own history entries
// (created_by, comments, empty_layer entries) in place of the synthesized
// ones; a base history that does not account for
// exactly its layers, or that its readers refuse (a created that is no
// RFC 3339 time, an empty_layer not true or false), is replaced as usual.
//
// --build-image-config writes the config nixpkgs' buildImage writes
// instead, byte for byte, as its builder makes it with jq (reference
// §2.2): jq's form (two spaces, UTF-8, DEL and control characters as
// \u00xx, a final newline); the keys architecture, config, created, os,
// preferLocalBuild (true), variant ("" without --variant), rootfs,
// history; created as given (now: this second in UTC, +00:00; a time
// Go's RFC 3339 reader, Docker's, cannot read, such as a date alone, in
// Python's isoformat, where nixpkgs' image would not load); the config's
// member named exactly Env set to the base config's Env followed by ours,
// not de-duplicated (appended last when the config has none, [] when
// neither has one); one history entry {created} per layer, base layers
// included, the base's own history dropped. build-image passes it.
// Numbers are written as Python's json does: the same as jq's for
// integers below 2^53 (jq 1.6 rounds larger ones through a double, jq 1.7
// keeps them; a fraction may print otherwise).
//
// --print-base-layers prints the number of layers of the --from-image image
// (of a multi-platform one, the image for --os, --architecture and
// --variant) and exits, so that a workflow can give popularity
// --base-layers before any work is done. --print-platform prints that
// platform, OS/ARCH[/VARIANT] (--variant alone is of this machine's
// architecture), and exits, reading nothing: build-image passes it to
// tar-merge --platform, so that the base image its --run-as-root script
// runs in is the one whose layers the image gets.
//
// # nixpkgs' configuration (the drop-in path)
//
// --conf CONF.json reads nixpkgs' stream configuration (reference §5.1):
// architecture, config, created, repo_tag and from_image; os is ignored, as
// nixpkgs ignores it. `layer-pack --conf C | manifest-gen --conf C` writes an
// image with the same diff_ids and config digest as nixpkgs' stream script.
// Flags given as well take precedence over the configuration. Its
// repo_tag, and --repo-tag NAME[:TAG] (the workflows' -t, nixpkgs' stream
// script's), are written as given, as that script writes them: NAME
// alone is NAME:latest, and "NAME:" or ":TAG" is refused (nixpkgs writes
// "NAME:", which docker load refuses), and so is a NAME with upper case
// outside the registry host ("App:1"), which docker load refuses: it is
// not lower-cased, as --name is, which would make it another name (only
// nixpkgs' Nix code lower-cases name, before the script sees it). The tag
// is never changed: tags are case-sensitive.
//
// Where we differ from nixpkgs: a creation time without an offset is read as
// UTC and written with +00:00 (nixpkgs would write a time Docker cannot
// parse); a base image may be zstd-compressed or an OCI layout; its layers
// are verified rather than trusted; more than --max-layers layers is an
// error rather than an image runtimes refuse; numbers in a config that
// Python would print as NaN or Infinity are refused, and so is, before any
// input is read, a config field (of --config or --conf) whose type
// Docker's and OCI's readers refuse, such as "Env": "FOO=1" (names are
// matched regardless of case, as those readers do: "env" is Env, merged
// with the base's as Env is, and two keys naming one field, Env and env,
// are refused, as those readers keep the last).
//
// # SBOM
//
// --sbom-graph FILE makes the image's software bill of materials from its
// closure graph (closure-scan's; give it --nar-hash for NAR hashes):
// one package per store path, named and versioned as Nix's parseDrvName
// splits its name, with its purl, NAR hash and size, the layer that holds
// it (diff_id and position) and its references (imgkit/sbom says exactly
// what is in it). The layer of a path is the stream layer whose trailer
// lists it, or with --sbom-plan PLAN the one the plan puts it in (the
// plan's layer i is the stream's layer i), for streams whose trailer lists
// no paths (layer-pack --changes, build-image's layer). Where it goes:
//
//   - --sbom-cyclonedx FILE and --sbom-spdx FILE write CycloneDX 1.6 JSON
//     and SPDX 2.3 JSON to FILE, which appears when the image does
//     (written to a temporary file and renamed; nothing is left on
//     failure); two outputs (-o, --digest-file, these) naming one file
//     are a usage error, as the last renamed would replace the other.
//     The output and these files are renamed one after another under a
//     lock (flock) of the output's directory: two builds writing the same
//     files at once leave one build's image and SBOMs, never a mix (a
//     build killed between two of its renames can still leave its image
//     beside an older SBOM; the lock is taken with --digest-file too, and
//     one held for a minute, by a stopped build or a flock(1) of the
//     directory, fails the build, saying so);
//   - --sbom-in-image cyclonedx|spdx (repeatable) puts them in the image:
//     a top layer of its own holding /sbom/image.cdx.json and
//     /sbom/image.spdx.json (mode 0444, owner 0:0, GNU tar's format), with
//     the history comment "SBOM: /sbom/image.cdx.json, …". It counts
//     against --max-layers, and a stream that carries its config cannot
//     get one (the config would change). A layer rather than the config's
//     Labels: the SBOM of a closure of 1,000 paths is about 1 MB, more
//     than a config (read whole by every client, shown by docker inspect)
//     should carry, and a layer stays out of the way of the image ID of
//     the layers below it. A file in the image is what scanners look for:
//     syft's sbom cataloger reads *.cdx.json and *.spdx.json files in the
//     images it scans.
//
// The SBOM's bytes depend on the image alone: its serial number and
// namespace derive from the image ID (the config digest) of the image
// without the SBOM layer, its creation time is the config's created. So
// the file beside the image, the copy inside it and the one push-blob
// --sbom attaches in a registry are the same bytes.
//
// # Exit status
//
// 0 when the whole archive is written; 1 for bad input (a malformed or
// truncated stream, a base image that is missing, corrupt or lacks the image
// asked for, a digest mismatch, too many layers) or an I/O error; 2 for a
// usage error. Errors are one line on stderr. With -o FILE the file
// appears only when the archive is complete; on stdout a failure can leave a
// partial archive, so write to a temporary file and rename it.
//
// # Example
//
//	closure-scan ./result | popularity --max 100 | layer-pack |
//	    manifest-gen --name hello --config config.json -o hello.tar
//	docker load < hello.tar
//
//	… | layer-pack | manifest-gen --name hello --format oci --layer-compression zstd -o hello.oci.tar
//	skopeo copy oci-archive:hello.oci.tar docker://registry.example/hello:latest
package main
