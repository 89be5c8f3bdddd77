// Package layercache is the layer cache of layer-pack --cache and
// push-blob --cache: a directory that remembers what building and pushing
// store layers has learned, so that a later build or push need not learn it
// again.
//
// # What it remembers
//
//   - For a store layer, identified by a Key (its store paths in order and
//     every parameter that shapes its bytes: store directory, mtime,
//     uid/gid/uname/gname, and the version of the byte rules of the tool
//     that writes it), the layer tar's diff_id and size.
//   - For a layer tar (a diff_id) and a compression recipe (oci.Recipe), the
//     digest, size and media type of the compressed blob.
//   - For a blob and a registry host, a repository of that registry that
//     held it the last time: where a push can mount it from.
//
// # Why the key is valid
//
// A store path is immutable: its name is a hash of how it was built, and
// Nix never changes it once it is registered. The same paths with the same
// parameters therefore give the same layer bytes, and the cache may answer
// for them without reading one file. This holds for Nix store paths only:
// a tree that can change under the same name (a customisation directory, a
// store faked by copying files around) must not be cached, and layer-pack
// caches store layers only. A compressed digest is a pure function of the
// layer's bytes and the recipe; a mount source is only a hint, checked by
// the registry when it is used.
//
// # Layout and concurrency
//
//	DIR/v1/layers/<k[:2]>/<k>.json          k = sha256 of the key's JSON
//	DIR/v1/blobs/<recipe>/<d[:2]>/<d>.json  d = hex of the diff_id
//	DIR/v1/sources/<host>/<b[:2]>/<b>.json  b = hex of the blob digest
//
// Every record is one small JSON file, written to a temporary file in the
// same directory and renamed into place, so a reader sees a whole record or
// none, and builds on one machine or sharing a directory over a file system
// with atomic rename may use one cache at once, as one user: the directory
// (and its v1) must be owned by the user who opens it and writable by
// nobody else, or Open refuses it, as manifest-gen refuses such a
// --layer-tars directory (whoever can write records decides the layers
// layer-pack --reuse refers to, below). Nothing is read or written outside
// v1: a record or directory that is a symlink out of it is not followed,
// and a record that is not a regular file of at most 16 MiB (a FIFO, a
// device, a file of gigabytes) is not waited on or read, but is a record
// that does not verify; so is one that another user owns (a hard link to
// their file) or that group or others may write, as they could rewrite
// it. No file is ever read,
// changed and written back: a record depends only on its name, so two
// writers write the same bytes (sources are hints, and the last writer
// wins). Nothing is ever deleted by the tools: remove the directory (or old
// files, by access time) to trim it.
//
// # Records verify themselves
//
// A record file is one line:
//
//	{"sha256":"<hex>","record":<body>}
//
// where <hex> is the sha256 of the body's bytes exactly as they stand in
// the file, and the body repeats the record's own key:
//
//	layers   {"key":{"rules":…,"store_dir":…,"mtime":…,"uid":…,"gid":…,"uname":…,"gname":…,"paths":[…]},"diff_id":"sha256:…","size":N}
//	blobs    {"diff_id":"sha256:…","recipe":"gzip.1","mediaType":…,"digest":"sha256:…","size":N}
//	sources  {"host":…,"digest":"sha256:…","repository":…}
//
// A record that does not verify (another checksum, a key that is not the
// one its name stands for, a field out of range, a truncated or garbled
// file) is ErrBadRecord: the tools treat it as missing, say so under -v,
// and write it again once they learn the value (layer-pack packs the
// layer, push-blob compresses it). Records written before checksums
// existed (a bare body, no "sha256") are treated the same way: unverified,
// ignored and rewritten, never trusted.
//
// The checksum catches a record edited by hand, cut short or damaged on
// disk; it is no signature: whoever can write the directory can write a
// record with a matching checksum. What a blob record says is therefore
// still checked where it is used: the registry must hold the blob at the
// size the record gives (push-blob), and push-blob --verify-cache
// compresses the layer again instead of taking the record's word. A layer
// record is checked whenever layer-pack packs the layer; only layer-pack
// --reuse takes its diff_id unread, which is its purpose.
package layercache
