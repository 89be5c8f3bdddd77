// pull-blob fetches an image from a registry, pinned by digest, and writes
// it as a layer stream for manifest-gen; or it writes one verified blob.
//
//	pull-blob [flags] NAME@sha256:HEX > stream.tar
//	pull-blob --blob NAME@sha256:HEX > blob
//	pull-blob --resolve NAME:TAG
//
// NAME is a repository with its registry host (quay.io/coreos/etcd;
// docker.io is the default, as for docker pull). A tag (NAME:TAG) works
// too, with a warning on stderr giving the digest it resolved to: a tag can
// move, so only a digest gives the same bytes tomorrow.
//
// # Output
//
// A layer stream (docs/formats.md §3): the image's layers, bottom first,
// uncompressed, as layers/000.tar, layers/001.tar, …; the image config's
// bytes verbatim as config.json; the stream.json trailer with each layer's
// diff_id and size. manifest-gen writes config.json verbatim, so the image
// ID of the archive it makes is the registry's config digest, and docker
// load gives the image the registry has:
//
//	pull-blob quay.io/coreos/etcd@sha256:… | manifest-gen --name etcd --tag v3 > etcd.tar
//
// scripts/pull-image does exactly this, atomically, with a fixed-output
// hash check; scripts/prefetch-image resolves a tag and prints the values to
// pin.
//
// With --blob, the blob the digest names (a layer as the registry stores
// it, a config, a manifest) is written as is. With --resolve, the digest a
// reference points at (a manifest list's own digest for a multi-platform
// image) is printed, and nothing is downloaded.
//
// # Manifests and platforms
//
// Docker image manifest v2 schema 2 and OCI image manifests are read; so
// are Docker manifest lists and OCI image indexes, from which the image for
// --os, --arch and --variant is chosen (default: linux, the host's
// architecture and, on 32-bit arm, the GOARM variant pull-blob was built
// for) as docker, containerd and skopeo choose it: platforms compare as
// they compare them (arm64 and arm64/v8 are the same, so are arm and
// arm/v7, x86_64 and amd64, Linux and linux), an older variant of the
// architecture is taken when the one asked for is missing, the newest
// first (arm/v7 takes v6, then v5; amd64/v3 takes v2, then amd64), a
// newer never (amd64 is plain amd64, never amd64/v3, which a v2 machine
// cannot run), and of two entries for one platform the first. A list may
// hold lists (a nested index): when it has no image for the platform
// itself, the lists it holds for that platform, or without a platform, are
// searched in order, as go-containerregistry, skopeo and containerd do (up
// to 8 of them). When no image is found, the error lists the platforms the
// list and the lists in it offer (the first 16, and how many more). Layers may
// be gzip, zstd or uncompressed. Docker's schema 1 manifests (no content
// digests for their configs), foreign layers and images of more than 125
// layers (which runtimes refuse, as manifest-gen does) are refused before
// any layer is fetched.
//
// # What is verified, and when
//
// Everything read from the registry is checked before anything made from it
// is written:
//
//   - the manifest (and the manifest list) hash to the digest asked for;
//   - the config hashes to the manifest's config digest and lists as many
//     diff_ids as the manifest has layers;
//   - each layer blob has the manifest's size and digest, and once
//     decompressed hashes to the config's diff_id.
//
// Layers are downloaded by --jobs workers into spool files in $TMPDIR,
// unlinked as soon as they are made (nothing is left behind, even by a
// pull killed with SIGKILL), largest first (a pull lasts at least as long
// as its largest layer takes), verified there, and written to the stream
// in order as soon as they and the layers below them are verified, so
// downloading goes on while the stream is written. The spools waiting for
// the stream are open files: at most a quarter of the limit on open
// descriptors of them are held (beyond --jobs), the layer the stream
// needs next always let through, so that a low limit slows a pull of many
// layers rather than failing it; for the same reason a --jobs above a
// quarter of that limit is lowered to it (-v says so). A layer is decompressed
// as it arrives, into an uncompressed spool file: one decompression,
// overlapping the network.
// Receiving and hashing the blob, decompressing it, and hashing and
// spooling the result run in three goroutines, so a layer's decompression,
// the slowest part of a pull, has a core to itself. With --low-disk the
// compressed blob is spooled instead and decompressed twice (once to
// verify, once to write): $TMPDIR then needs the
// compressed size of the image rather than the uncompressed one, for twice
// the decompression. A --blob is spooled and verified before its first
// byte is written. A mismatch is an error (exit 1), never a warning.
//
// A layer may not decompress past --max-expanded-bytes SIZE (default
// 64GiB, as tar-merge's): a few kilobytes of zstd can stand for terabytes
// of zeros, which would fill the temporary directory before the diff_id
// check. Past SIZE the pull stops with "pull-blob: layer N sha256:…:
// decompressing (KIND): expands past SIZE bytes (--max-expanded-bytes)".
// Nor may a layer's blob, as the manifest gives its size: an uncompressed
// layer, or a compressed one spooled as it is (--low-disk), is never
// decompressed on its way to the spool, and is refused before it is
// fetched ("pull-blob: layer N sha256:…: BLOBSIZE bytes: expands past SIZE
// bytes (--max-expanded-bytes)"). A --blob, whose size only the registry
// gives, may not pass SIZE either.
//
// # Credentials
//
// --creds USER:PASS gives credentials for the registry (basic auth, or to
// obtain a bearer token when the registry asks for one); --creds-file FILE
// reads them from FILE, one line USER:PASS (its "\n" or "\r\n" dropped;
// more than one line, or past 64 KiB, is a usage error), which may be a
// descriptor: --creds-file /dev/fd/3 3<<EOF, a line "$USER:$TOKEN", EOF
// (mksh and zsh write a here-document into a file of /tmp: there, a pipe
// into --creds-file /dev/stdin).
// Without either they
// come from the first place that has some for the registry:
// $DOCKER_AUTH_CONFIG; $DOCKER_CONFIG/config.json; $REGISTRY_AUTH_FILE,
// the auth.json that skopeo and podman read instead of theirs;
// ~/.docker/config.json (Docker's config.json: "auths", and "credsStore"
// and "credHelpers", which run docker-credential-NAME, given a minute to
// answer); then $XDG_RUNTIME_DIR/containers/auth.json (where podman login
// writes) and ~/.config/containers/auth.json. A file the environment names
// comes before one found by default. With none, the pull is anonymous.
// Secrets never appear in the output or in errors. --creds is visible to
// other users in the process list (ps, /proc/PID/cmdline) for as long as
// the pull runs; --creds-file and the config files are not. The workflows
// (pull-image, prefetch-image, push-image) pass credentials on to the
// tools as --creds-file /dev/fd/3, whichever of the two they were given.
//
// # Network
//
// Requests that fail with 408, 429 or 5xx, or whose connection is refused,
// reset or times out, are retried --retries times with a backoff of 1s,
// 2s, 4s, …; one on which nothing arrives for a minute (a manifest or
// token that stops half-way), or less than 60 KiB in a minute of waiting,
// fails. A layer whose download breaks off (or is so stalled) resumes with an HTTP Range request from
// the byte it reached;
// a registry that ignores Range sends the blob again, and the bytes already
// held are skipped. --tls-verify=false skips certificate checks and allows
// plain HTTP (registries on loopback and private addresses may always use
// HTTP, but credentials go in plain HTTP only to a loopback one, as
// docker's default insecure-registries has it: someone on a LAN who made
// the HTTPS of a registry at 192.168.1.10:5000 fail would get them in
// clear); without it a redirect or an upload Location in plain HTTP to any
// other host is refused, so that no credential travels in clear, unless a
// request already in plain HTTP was redirected there (such a registry's
// storage). HTTPS_PROXY and NO_PROXY are honoured. A progress bar is
// drawn on stderr when it is a terminal; -q silences it and the warnings.
//
// # Exit status
//
// 0 when the stream (or blob, or digest) is complete on stdout or in
// --output; 1 for a runtime failure (the registry refused or lacks the
// image, a digest mismatch, a platform that is not there, a network failure
// after the retries, an I/O error); 2 for a usage error (bad flags, a
// malformed reference, --creds or --creds-file content). Errors are one line on stderr. When the
// reader of stdout goes away, pull-blob removes its spooled layers and
// ends quietly, killed by SIGPIPE as Unix filters are. On stdout,
// a failure may leave a partial stream (without its trailer, which
// manifest-gen refuses); with --output FILE, the file appears only when
// complete.
package main
