// Package nixhash reads and prints SHA-256 hashes the ways Nix writes
// them: the SRI form "sha256-<base64>" (what `nix path-info --json` of Nix
// 2.4 and later prints as narHash, and so what closure-scan --nar-hash
// writes), and "sha256:" followed by Nix's base32 (Nix 2.3's path-info,
// exportReferencesGraph, nix-store --dump-db), by base16 (what Nix keeps
// in the hash column of its database) or by base64.
//
// Nix's base32 is not RFC 4648's: its alphabet (storefs.Base32) lacks e,
// o, u and t, and the digest is read from its last 5-bit group to its
// first, so the first character carries the most significant bits of the
// last byte.
package nixhash
