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
// The Reader checks the structure (member names, order, sizes, trailer
// agreement) always, and with Verify also recomputes every diff_id.
package layerstream
