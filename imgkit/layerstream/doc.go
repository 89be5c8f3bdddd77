// Package layerstream writes and reads the layer stream: the tar that
// carries finished layers from layer-pack (or pull-blob) to manifest-gen.
//
// A layer stream is an uncompressed tar whose members come in this order:
//
//	layers/000.tar    the first (bottom) layer, an uncompressed layer tar
//	layers/001.tar    the next layer, and so on (three digits or more)
//	config.json       optional: image config bytes to keep verbatim
//	stream.json       the trailer, always last
//
// Layers are named by position, not by digest: a tar header needs its
// member's name and size before the bytes, and a digest is only known after
// them. The producer knows each layer's size in advance (layer-pack computes
// it from the file metadata it is about to write), so every file is read
// once and hashed as it streams; the digests travel in the trailer.
//
// The trailer is a JSON object:
//
//	{"version": 1, "layers": [{"diff_id": "sha256:<hex>", "size": 10240,
//	  "paths": ["/nix/store/…"], "comment": "…"}, …]}
//
// with one entry per layer member, in the same order. diff_id and size
// describe the member's bytes. paths (the store paths the layer holds) and
// comment (a history comment used verbatim) are optional; a consumer that
// needs a history comment and finds none derives it from paths.
//
// # Reference layers (version 2)
//
// A layer may travel as a reference instead of bytes: the member
// layers/NNN.ref holds {"diff_id", "size", "blobs": [{"mediaType",
// "digest", "size"}, …]}, the layer tar's digest and length and at least one
// stored (compressed) form a registry can serve. Its trailer entry repeats
// diff_id, size and blobs. layer-pack --cache writes one for a store layer
// the destination registry is known to hold, so that no store file is read
// for it; push-blob refers to the blob, and manifest-gen --format stream
// passes it through. Consumers that need the bytes (a docker-archive or an
// OCI layout) refuse a reference. A stream with a reference has trailer
// version 2, which readers of version 1 refuse; a stream without one is
// still version 1, byte for byte as before.
//
// The Reader checks the structure (member names, order, sizes, trailer
// agreement) always, and with Verify also recomputes every diff_id (of the
// layers that carry bytes: a reference's diff_id is taken on its word).
package layerstream
