// Package oci holds what manifest-gen's OCI output and push-blob share
// about stored layers: the media types, the deterministic compression
// recipes (and the one function that compresses a layer while hashing both
// sides), and the OCI image manifest and index they write, so that the same
// image gives the same manifest digest whichever tool wrote it.
//
// # Deterministic compressed bytes
//
// A layer is compressed with imgkit/compress's writers (gzip or zstd at the
// default level, no names or times). For one version of
// github.com/klauspost/compress the bytes depend only on the layer: the same
// image gives the same blob digests and manifest digest on every run and
// machine. Each compression has a recipe name (Recipe) that layer caches
// key compressed digests on; the tests pin the digests each recipe gives,
// so a library update that changes the bytes fails them and the recipe
// name must be bumped (old cache entries are then simply not found).
//
// # JSON
//
// Manifests and indexes are encoded with encoding/json from the
// image-spec's Go types: fields in the spec's order, no insignificant space,
// no final newline. Descriptors carry no annotations except the index's
// image names.
package oci
