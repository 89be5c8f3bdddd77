// push-blob pushes an image to a registry, uploading only the blobs the
// registry lacks, and prints where it is: REPO@sha256:<manifest digest>.
// It is pull-blob's mirror, and with it the only tool that touches the
// network.
//
//	push-blob --dest REGISTRY/REPO[:TAG] [flags] [IMAGE] > pushed.txt
//	push-blob --list-present --dest REGISTRY/REPO[:TAG] > held.json
//
// # Input
//
// IMAGE (a file, or - for stdin, the default) is one of:
//
//   - an image archive: a docker-archive (docker save, nixpkgs,
//     manifest-gen) or an OCI layout tar (manifest-gen --format oci, skopeo),
//     uncompressed or compressed with gzip, xz, zstd or bzip2; its layers may
//     be stored compressed. An archive of several images that are not one
//     multi-platform image (docker save a b, merge-images; an OCI layout
//     whose index.json lists several; one image under two names is one)
//     cannot go under one tag: it is refused before anything is sent, as
//     skopeo and crane refuse it, unless --archive-image NAME[:TAG] picks
//     one, or @N, the Nth image from 0 (skopeo's docker-archive:FILE:@N),
//     tagged or not. A docker save of a multi-platform image with the
//     containerd image store (manifest.json
//     lists the saving daemon's platform, index.json them all), or of one
//     platform with its attestation, is pushed as docker push pushes it:
//     the image index index.json names, unchanged, and everything under it
//     (attestation manifests, nested indexes, configs, layers as stored,
//     whatever --layer-compression says), each manifest put by digest
//     after what it names, the index last under the tag: the digest
//     printed is index.json's, which docker shows and pulls by. Every
//     manifest, index, config and attestation blob is checked against its
//     digest and descriptor size before anything is sent (indexes nested
//     more than 4 deep, a digest or size that lies, a media type its
//     document contradicts, a layer compressed other than its media type
//     says are refused; so is a manifest or layer named twice that the
//     second descriptor or config tells otherwise of), and a layer's bytes
//     against its digest and diff_id before it is uploaded. A save lacking some of it
//     (docker save leaves out the platforms docker never pulled) is pushed
//     as the multi-platform image below, of the images whose blobs it
//     holds (one such image as itself), with a warning that the digest is
//     not the saved one; with --archive-image, the image for this machine's
//     platform, or the only one it holds. An uncompressed archive file
//     (or stdin redirected from one) is read in place; anything else is
//     decompressed once into a temporary file (an archive or layer that
//     decompresses past 64 GiB is refused, as by tar-merge's default
//     --max-expanded-bytes);
//   - a multi-platform image: an OCI layout tar whose index.json names one
//     image index (tar-merge --index, scripts/build-index; skopeo copy
//     --all). When every layer under the index is stored as
//     --layer-compression asks and the layout holds every blob, it is
//     pushed as a docker save's is, as it is (attestation manifests and
//     nested indexes too). Else every image of it is pushed as below, its manifest put by
//     digest, then the image index of them under the tag, each entry with
//     the platform its image's config names, sorted (imgkit/oci: as
//     tar-merge --index writes it, so with the layers stored as
//     --layer-compression asks the tag's digest is the one index.json
//     names). Two images for one platform as Docker compares them (arm64
//     and arm64/v8 are one, so are arm and arm/v7, x86_64 and amd64), or
//     one whose config names no os or architecture, or "unknown" (the
//     platform of attestation manifests, which clients skip), are refused
//     before anything is sent;
//     --archive-image pushes one of them instead, by its tag: as every
//     image of the index has it (build-index --tag), the one for this
//     machine's platform, chosen as docker and skopeo choose from an
//     index (tar-merge --platform's default);
//   - a layer stream that carries its image config (docs/formats.md §3):
//     what manifest-gen --format stream writes after layer-pack, or what
//     pull-blob writes. Each layer is copied into a temporary file as it
//     arrives (stdin is never seeked) and pushed from there while the next
//     one is read. A stream may hold reference layers (layer-pack --reuse):
//     layers without bytes whose blob the registry is known to hold.
//
// The image config is pushed verbatim, so the image ID stays its digest;
// for a stream it must list exactly the stream's diff_ids. An image of more
// than 125 layers, the most runtimes accept (see manifest-gen --max-layers),
// is refused: an archive's before anything is sent, a stream's when its
// 126th layer arrives (the layers before it may be uploaded by then, and
// stay unreferenced; nothing is tagged).
//
// # What is uploaded
//
// For each layer, the blobs that are known without reading the layer are
// asked for first (a HEAD request each), in this order: a reference's
// blobs; the input's stored blob, when the input stores the layer as
// --layer-compression asks (an OCI layout's gzip blob, an uncompressed
// layer with none); the blob the layer cache (--cache) recorded for this
// diff_id and compression recipe; the blob the destination tag's current
// image has for the same diff_id and compression (unless --no-tag-reuse;
// its manifest and config are read first). A blob the registry lacks is
// mounted from another repository of the same registry when one is known
// to hold it: where the cache saw it last, or a --mount-from repository.
// A blob is referred to only when the registry holds it at the size its
// source gives (the HEAD response's Content-Length, asked again after a
// mount): one it holds at another size, or without saying which, is not
// (a warning says so), and the next one is asked for.
//
// Only when none of them is in the registry are the layer's bytes read:
// pushed as they are when the input stores them as asked (after checking
// them against the diff_id), else compressed with the deterministic
// recipe (imgkit/oci: the same layer gives the same blob on every run and
// machine) into a temporary file, which gives the digest to ask for once
// more, then uploaded from that file. --jobs layers are compressed and
// uploaded at once (two by default: compression is the costly part, one
// core each; fewer, said with -v, when an eighth of the limit on open
// descriptors is fewer: a job holds up to four); from an archive, up to 16 layers are asked for at once, as a
// warm push is mostly requests waiting on the network. Then
// the config is uploaded if the registry lacks it, and last the manifest
// (an OCI image manifest, as manifest-gen --format oci writes it: the same
// image and compression give the same digest) is put under the tag.
// Nothing is tagged until every blob is in the registry.
//
// So pushing an image twice uploads nothing the second time (only the
// manifest is put again), and after a change to one layer only that layer
// (and the config, and the manifest) is uploaded. Without a cache and
// without the tag's image, an unchanged layer is still compressed to learn
// its digest, but not uploaded; with either, it is not even read.
//
// # Layers known before they are packed (layer-pack --reuse)
//
// --list-present prints the destination tag's layers whose blobs the
// registry holds, as a holdings list (docs/formats.md §5), and pushes
// nothing (an artifact at the tag, or in its index, holds no layers). layer-pack --cache DIR --reuse FILE turns every store layer
// that its cache knows and the list holds into a reference: no store file
// of it is read, and push-blob refers to the blob:
//
//	push-blob --list-present --dest reg.example/app:latest > held.json
//	closure-scan ./result | popularity --max 100 |
//	    layer-pack --cache ~/.cache/layers --reuse held.json --customisation-dir root |
//	    manifest-gen --format stream --name app --config config.json |
//	    push-blob --dest reg.example/app:latest --cache ~/.cache/layers
//
// A reference naming a blob that the destination tag's image has as
// another layer's (a crafted list) is refused before that layer is
// pushed: the manifest would pair the blob with a diff_id it does not
// have. (With --no-tag-reuse the tag is not read, and nothing is checked.)
//
// # The layer cache (--cache DIR)
//
// The directory layer-pack --cache uses (imgkit/layercache; created when
// missing; safe to share between concurrent builds and pushes of one
// user: every record is written to a temporary file and renamed; a
// directory another user owns or may write is refused). push-blob reads and
// records, per diff_id and compression recipe, the digest and size of the
// blob it compressed (only its own: a blob found in a registry may come
// from another compressor), and per registry and blob a repository that
// holds it, for mounts. A record is a hint the registry confirms: a blob
// the cache names but the registry lacks, or holds at another size, is
// compressed and uploaded. Each record carries a checksum of itself
// (docs/formats.md §5): one that does not verify (edited, cut short, or
// written by an older version without a checksum) is ignored, -v says so,
// and the layer is compressed so that the record is written again (also
// when the tag's image has the blob); so is a record whose blob the
// registry holds at another size.
//
// --verify-cache does not take the cache's word at all: every layer whose
// blob the cache knows is compressed again and the record checked against
// the result; a record that disagrees is warned about and replaced. That
// costs what a push without the cache costs, and uploads nothing more. A
// reference layer has no bytes to check, so --verify-cache refuses it.
// Mount sources stay hints: the registry checks a mounted blob's digest,
// and its size is asked.
//
// # Credentials, retries, resuming
//
// As pull-blob: --creds USER:PASS or --creds-file FILE (one line
// USER:PASS; no other user sees it, as any can see --creds in the process
// list), else $DOCKER_AUTH_CONFIG, Docker's
// config.json and its credential helpers, skopeo's and podman's auth.json,
// else anonymous; secrets never
// appear in output or errors. --tls-verify=false accepts any certificate
// and allows plain HTTP (a local registry; without it an upload Location or
// a redirect in plain HTTP to a host not on a loopback or private address
// is refused, but for the redirect of a request already in plain HTTP, and
// credentials go in plain HTTP to a loopback address only).
// Requests that fail with 408, 429 or 5xx, or
// whose connection is refused, reset or times out, are retried --retries
// times with a backoff of 1s, doubling; a request on which nothing moves
// for a minute (a registry that stops taking an upload or answering), or
// less than 60 KiB in a minute of sending, counts as a broken connection. An upload that fails resumes from
// the byte the registry says it holds (it is asked), not from the start;
// --chunk-size SIZE sends a blob in requests of SIZE bytes, so that one
// failed request loses at most SIZE bytes. How much a registry keeps
// varies: Debian's docker-registry (distribution 2.8) keeps the chunks it
// accepted when a later one fails before reaching it (a proxy's 503, a
// refused connection), but drops the whole session when a request breaks
// off in the middle of its body; the blob is then sent again in a new
// session. A progress bar of the bytes uploaded is drawn on stderr when it
// is a terminal (not with -q).
//
// # SBOMs (--sbom FILE)
//
// Each --sbom FILE (a CycloneDX or SPDX JSON document, such as
// manifest-gen --sbom-cyclonedx and --sbom-spdx write; read and recognised
// before anything is sent) is attached to the pushed image once its
// manifest is in: an OCI 1.1 artifact whose artifactType and one layer's
// media type are the document's (application/vnd.cyclonedx+json,
// application/spdx+json), titled image.cdx.json or image.spdx.json (the
// org.opencontainers.image.title annotation, the file oras pull writes it
// to), whose config is the empty blob {}, and whose subject is the
// image's manifest. It is put by its digest, and made a
// referrer of the image: a registry that says it processed the subject
// (the OCI-Subject header), or whose referrers API (GET
// /v2/REPO/referrers/DIGEST) lists it, keeps the list itself; for any
// other, such as Debian's docker-registry (distribution 2.8, no referrers
// API), the list is the image index under the tag sha256-<image digest>
// (the referrers tag schema): fetched, the artifact appended unless
// listed, put back. Two pushes updating that tag at once may lose one
// entry (the artifact itself stays); -v says how each was attached and
// the artifact's digest. skopeo reads the index and copies an artifact
// by its digest; oras discover lists the artifacts and oras pull fetches
// one's document, as pull-blob --blob does. The registry's garbage
// collector (docker-registry garbage-collect) keeps the artifacts, as it
// keeps a multi-platform image's images; with --delete-untagged,
// distribution 2.8 deletes both, untagged manifests that a tagged index
// lists (its bug, distribution/distribution#3178). Pushing the same
// image and SBOM again lists it once. A multi-platform image takes no
// --sbom (refused once the input is opened, before anything is sent): an
// SBOM describes one of its images, and which one is not known here. A
// docker save of one image with its attestation is pushed as that image
// alone (its manifest made anew) when given --sbom, which is attached to
// it, not as the saved index.
//
// # Output
//
// One line on stdout: the repository as --dest names it, "@", and the
// manifest's digest (the index's, for a multi-platform image), such as
// registry.example:5000/app@sha256:4f20…. -v
// says on stderr what was found where, mounted and uploaded.
//
// # Exit status
//
// 0 when the manifest is in the registry under the tag (and every --sbom
// attached); 1 when the push fails (bad input, an --sbom file that is no
// SBOM or --sbom with a multi-platform image, more than 125 layers, a digest mismatch, a reference
// layer the registry does not hold, a registry error, refused credentials);
// 2 for a usage error.
// Errors are one line on stderr. Blobs uploaded before a failure stay in
// the registry, unreferenced (they are content-addressed: a retry finds
// them); the tag never points at a partial image.
//
// # Examples
//
//	build-layered-image --name app -o app.tar … && push-blob --dest reg.example/app:1.0 app.tar
//	pull-blob quay.io/org/tool@sha256:… | push-blob --dest reg.example/mirror/tool:1.2
package main
