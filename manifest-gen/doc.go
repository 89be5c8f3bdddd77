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
// nothing is written to disk.
//
// The stream's structure (names, order, sizes, trailer) is always checked.
// Its diff_ids are trusted by default and recomputed with --verify. Hashing
// every byte again is the one costly thing manifest-gen could do: measured on
// a shared 2-core machine with a 1 GB store, `layer-pack | manifest-gen` took
// 1.1-1.6 s without it and 1.7-2.5 s with it (manifest-gen's own CPU time
// 0.25-0.35 s against 0.9 s), far over the 10% we accept for a default, and
// layer-pack has just hashed the same bytes. Use --verify when the stream
// comes from elsewhere; docker load and skopeo check every diff_id anyway.
//
// # Output
//
// Docker's docker-save layout (Image Spec v1.2), an uncompressed tar:
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
//
// The config is byte-identical to the one nixpkgs' streamLayeredImage
// writes for the same inputs, so the image ID is the same: Python's
// json.dumps(indent=4) (ASCII escapes, no final newline) with the keys
// created, architecture, os, config, rootfs, history; created in Python's
// isoformat (1970-01-01T00:00:01+00:00); one history entry per layer whose
// comment is the trailer's comment, or "store paths: " and the Python repr of
// the layer's paths (a layer with neither has no comment). --variant adds a variant key after os (nixpkgs writes
// none). When the stream carries a config.json (a pulled image), that config
// is written verbatim, so the image ID stays the registry's config digest;
// options that would change it are then a usage error.
//
// # Name and tag
//
// --name is lower-cased, as nixpkgs does, and may start with a registry
// host. Without --tag the tag is the first 32 hex digits of the config's
// sha256: reproducible, and different whenever the image is.
//
// # Base image
//
// --from-image reads a docker-archive or an OCI layout tar, uncompressed or
// compressed with gzip, xz, zstd or bzip2; --from-image-name and
// --from-image-tag pick an image of a multi-image archive (default: the
// first). Its layers come first, copied verbatim and verified against the
// diff_ids of its config, and count against --max-layers; their history
// comment is "store paths: ['<member in the base archive>']", as nixpkgs
// writes it. The base config's Env is inherited as nixpkgs does: base
// entries then ours, one entry per variable at the position of its first
// occurrence with the value of its last. --inherit-config inherits every
// config field as a Dockerfile FROM does: ours replace the base's, Labels,
// ExposedPorts and Volumes are merged, an Entrypoint of ours without a Cmd
// drops the base's Cmd, OnBuild is not inherited.
//
// # nixpkgs' configuration (the drop-in path)
//
// --conf CONF.json reads nixpkgs' stream configuration (reference §5.1):
// architecture, config, created, repo_tag and from_image; os is ignored, as
// nixpkgs ignores it. `layer-pack --conf C | manifest-gen --conf C` writes an
// image with the same diff_ids and config digest as nixpkgs' stream script.
// Flags given as well take precedence over the configuration.
//
// Where we differ from nixpkgs: a creation time without an offset is read as
// UTC and written with +00:00 (nixpkgs would write a time Docker cannot
// parse); a base image may be zstd-compressed or an OCI layout; its layers
// are verified rather than trusted; more than --max-layers layers is an
// error rather than an image runtimes refuse; numbers in a config that
// Python would print as NaN or Infinity are refused.
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
package main
