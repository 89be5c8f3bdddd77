// Package archive reads image archives: a docker-archive (what `docker save`,
// nixpkgs and manifest-gen write: manifest.json, a config per image, layer
// tars, an optional legacy `repositories`) or an OCI image layout stored in a
// tar (oci-layout, index.json, blobs/sha256/…). The whole archive may be
// uncompressed or compressed with gzip, xz, zstd or bzip2; layers inside it
// may be uncompressed, gzip or zstd. It writes them too: Writer a
// docker-archive, LayoutWriter an OCI layout in a tar.
//
// # Random access, and when a temporary file is made
//
// manifest.json usually comes last in an archive, so reading one needs
// random access. A regular, uncompressed file is indexed in one pass over
// its tar headers (data is skipped by seeking) and then read in place with
// ReadAt; so is stdin when it is redirected from such a file and nothing
// has read from it yet (ReadAt leaves its offset alone). A pipe, or a
// compressed archive, is decompressed once into a temporary file in
// $TMPDIR; the file is unlinked as soon as it is created, so it holds disk
// space only while the Archive is open and never outlives the process.
// The copy goes as far as the tar does: an input whose first block is no
// tar header, or whose headers turn to other data, is refused where they
// do, and what follows the archive's end is read (a compressed input to
// its end, for its checksum; at most 1 MiB of an uncompressed one) but
// not copied, so that an endless input does not fill $TMPDIR.
//
// # What is verified
//
// Open checks the structure: a manifest (manifest.json, else index.json),
// every member it names present, each config's bytes against the digest in
// its name or descriptor, as many diff_ids in the config as layers in the
// manifest, sizes that fit the archive. Layer bytes are checked as they are
// read: a Layer's reader fails at EOF with an error wrapping
// errdefs.ErrDigestMismatch when the uncompressed bytes do not hash to the
// layer's diff_id (and, for an OCI blob, when the stored bytes do not hash
// to the blob's digest). Malformed archives give errors wrapping
// errdefs.ErrInvalidInput; a missing image errdefs.ErrNotFound.
//
// # Bounds
//
// OpenWith's Options.Expanded bounds decompression (Open's, and a Max of
// 0, is tarsafe.DefaultMaxExpanded, 64 GiB): the temporary copy of a
// compressed archive, and each compressed layer as it is read, may not
// pass its Max bytes (a few kilobytes of zstd can hold terabytes of
// zeros); the error wraps errdefs.ErrTooLarge. What is stored
// uncompressed is not bounded here; tarsafe.Reader bounds what a layer's
// tar expands to, sparse holes included. A zstd frame needing a window of
// more than compress.MaxZstdWindow (128 MiB), and an xz block declaring a
// dictionary of more than compress.MaxXzDict (128 MiB), are refused too.
//
// What Open reads into memory is bounded whatever the manifests repeat (an
// index naming a nested index a thousand times, four levels down, stands
// for 10^15 images): at most 16384 images, 65536 layers in all (a layer
// counted for each time an image lists it), and 256 MiB of manifests,
// indexes and configs (each counted every time it is named; one may have
// 64 MiB). Past them Open fails with an error wrapping errdefs.ErrTooLarge.
//
// # Order
//
// Archive.Images is in manifest order (index.json order for OCI, without
// the manifests that are no images: build attestations, for the platform
// "unknown", and artifacts, whose config is not an image config, such as
// the SBOMs and signatures oras cp -r and regctl image copy --referrers
// copy into a layout beside the image they refer to); an
// Image's Layers are bottom first, and a layer the manifest lists twice
// appears twice. A docker save holding both files is read by its
// manifest.json, whose images come in its order; of a multi-platform image
// (the containerd image store's save, whose manifest.json lists the image
// for the saving daemon's platform only), index.json adds the images of
// the other platforms whose blobs are all there, each right after the one
// manifest.json lists, with its tags (savedPlatforms in dockersave.go).
package archive
