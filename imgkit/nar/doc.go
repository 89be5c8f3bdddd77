// Package nar writes Nix archives (NARs) and reads and prints their hashes,
// exactly as Nix does: the bytes `nix-store --dump` writes, and the narHash
// that Nix records for a store path (the sha256 of those bytes).
//
// # The serialisation
//
// A NAR is a sequence of strings, each an 8-byte little-endian length then
// the bytes, padded with zeros to a multiple of 8:
//
//	"nix-archive-1" node
//	node  = "(" "type" "regular" ["executable" ""] "contents" DATA ")"
//	      | "(" "type" "symlink" "target" TARGET ")"
//	      | "(" "type" "directory" entry* ")"
//	entry = "entry" "(" "name" NAME "node" node ")"
//
// Entries come sorted by name in byte order; a file is executable when its
// owner may execute it (S_IXUSR). Nothing else of a file is kept: no
// owner, no time, no other mode bit. A named pipe, socket or device has no
// node: Dump refuses it, as Nix does. HashOmitting, for a tree that is no
// store path, leaves it out instead.
//
// Dump reads the tree below an open directory without following any
// symlink (imgkit/storefs): a store path that is a symlink is dumped as
// that symlink, and a directory replaced by a symlink while it is read is
// an error, never a way out. A file whose size changes while it is read is
// an error wrapping errdefs.ErrChanged, never a wrong hash. A file renamed
// over one after it was examined is read when it has the node written so
// far (regular, the same size and execute bit): `nix-store --optimise`
// replaces a store file by /nix/store/.links' identical file so; any
// other replacement is an error wrapping errdefs.ErrChanged.
//
// # Hashes
//
// Nix prints a NAR hash in two notations: "sha256:" and the 52 characters
// of its base32 (nix-store --query --hash, the database, older
// `nix path-info --json`), or SRI, "sha256-" and standard base64 (newer
// `nix path-info --json`). FormatHash writes the first, which is what the
// closure graph carries; ParseHash reads either, and "sha256:" with 64 hex
// digits. Nix's base32 is not RFC 4648's: its alphabet omits e, o, t and u,
// and it writes the hash's bits from the last byte's high end first
// (EncodeBase32, DecodeBase32).
package nar
