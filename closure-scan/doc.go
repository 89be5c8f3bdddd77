// closure-scan prints the runtime closure of Nix store paths: every store
// path they refer to, directly or not, with the size of its NAR
// serialisation and its references. It is the first filter of the pipeline.
//
// Usage:
//
//	closure-scan [--source auto|nix|scan] [--store-dir DIR] [--root DIR]
//	             [--extra-root PATH]... [--nar-hash] [-j N] [-v|-q] [PATH...]
//	closure-scan --graph FILE [--key KEY] [--extra-root PATH]... [--nar-hash]
//	             [--verify [--verified GRAPH]] [PATH...]
//
// # Input
//
// Each PATH is a store path (/nix/store/<hash>-<name>), a file or directory
// inside one, or a symlink to one such as nix-build's ./result. As Nix does,
// symlinks are followed while the path is outside the store, and a path
// inside the store stands for its top-level store path. Without PATH
// arguments, paths are read from stdin, one per line (any length; empty
// lines are skipped; a NUL byte, or more than 256 MiB in all, is an
// error); empty input gives an empty graph.
//
// The store directory is --store-dir, else $NIX_STORE_DIR, else /nix/store.
// Store paths are logical names: with --root DIR the logical path P is read
// at DIR/P, like Nix's chroot store local?root=DIR. A PATH may be spelt
// logically (/nix/store/…) or physically (DIR/nix/store/…); symlinks met
// inside the store while checking a PATH resolve logically, so they never
// lead out of DIR.
//
// Whatever the store holds, nothing outside it is read: the store
// directory is resolved as a process chrooted to DIR would resolve it, and
// below it no symlink is followed (a store path that is a symlink is
// scanned as the symlink a NAR holds); every directory and file is opened
// below the store directory without following one, so a directory replaced
// by a symlink while it is scanned is an error, never a way out.
//
// --extra-root PATH adds a file or directory outside the store (read where
// it is, not under --root, and nothing below it followed) as a node of its own: its path is its absolute
// path, its narSize the size of its NAR, its references the store paths it
// mentions, whose closure joins the graph. Workflows use it for nixpkgs'
// closure roots that are not store paths here (the image config and the
// customisation layer), and drop them later with popularity --exclude.
// Its path must be UTF-8: the graph is JSON.
//
// # Sources
//
// --source scan reads the files. A reference is any occurrence, in what a
// NAR of the path holds (file contents, symlink targets, entry names), of
// the 32-character hash part of an entry of the store directory, exactly as
// Nix's reference scanner finds them; a path that mentions its own hash
// refers to itself. The roots are scanned, then what they refer to, to a
// fixpoint; files are read once, in large reads, by -j workers. narSize is
// computed from file metadata and equals Nix's. Nix scans a build's output
// only for the hashes of the build's inputs, while the scanner knows every
// entry of the store: a file that happens to mention an unrelated store
// path gains a reference that Nix would not have registered.
//
// --source nix asks Nix (nix path-info --json --recursive), which must know
// every root. --source auto, the default, asks Nix when nix is installed
// and its database (under --root: DIR/nix/var/nix/db) knows every root, and
// scans otherwise; -v says which it used and why.
//
// --graph FILE takes the closure from a graph Nix wrote, as a Nix build
// knows it: FILE is any shape popularity reads (exportReferencesGraph's
// structured-attrs file, with --key naming its member when it has several
// arrays; nix path-info --json --recursive). The PATH arguments must be
// nodes of it; no store file is read, and the references of store paths
// are the graph's. An extra root is scanned for the hashes of the graph's
// paths only, exactly as Nix scans a build's output for the hashes of its
// inputs. The Nix library (nix/) uses it for buildImage, whose layer is
// made inside the build. --source cannot be given with it.
//
// The graph is trusted: its narSize and narHash are written as it gives
// them (into a Nix database by nix-db, into an SBOM), as Nix's
// exportReferencesGraph, which only Nix writes, can be. --verify reads
// every store path of the closure (under --root) and checks the graph's
// narSize, and its narHash where it has one, against the files, as
// --nar-hash hashes a scan's: a mismatch is an error (a graph written by
// hand, or for another store). The references stay the graph's: they are
// what Nix recorded when the paths were built, which no file says.
// --verified GRAPH names a graph an earlier closure-scan --verify
// --nar-hash wrote from the same --graph and --root: a store path it has
// with the same narSize is taken as checked, its narHash GRAPH's, and
// not read again (the workflows scan one --closure-graph more than once
// with --include-nix-db; GRAPH is trusted as --graph is without
// --verify).
//
// A NAR holds only regular files, directories and symlinks. A named pipe,
// socket or device inside a closure is an error, as it is for Nix (it is
// never opened, so a FIFO cannot hang the scan). An extra root is no store
// path: one there (a copied root file system's /dev) holds no reference
// and is left out, of its narSize and narHash too. A dangling symlink is
// not an error: a NAR stores the link, not its target.
//
// # Output
//
// The closure graph of docs/formats.md on stdout: a JSON array sorted by
// path, one object per line, {"path","narSize","references"} with sorted
// references, self-references kept. Nothing is written unless the whole
// graph is known.
//
// --nar-hash adds each path's "narHash": the sha256 of its NAR, as
// "sha256:" and Nix's base32, the notation of Nix's database and of
// nix-store --query --hash (nix path-info --json prints the same hash in
// SRI notation, sha256-<base64>). From Nix, or a --graph that has it, it
// is Nix's own; for the rest (the scanner's paths, the extra roots) it is
// computed from the files: every
// file is read once more, in NAR order, one path per worker (-j, default
// one per CPU, since hashing is bound by the CPU), biggest first. A path
// whose NAR is no longer narSize bytes long changed after it was scanned,
// which is an error. The SBOM (manifest-gen --sbom-graph) and a Nix
// database in the image need it; the layers do not, so it is asked for.
//
// # Exit status
//
// 0 when the graph is complete; 1 when a path is missing, outside the
// store directory, or unreadable, --verify finds a --graph's narSize or
// narHash that is not its files', a file has a type a NAR cannot hold or
// changes while being read (or, with --nar-hash, between the scan and the
// hash), the paths on stdin hold a NUL byte or pass 256 MiB, or Nix fails;
// 2 for a usage error. Errors are one line on stderr, for example:
//
//	closure-scan: path "./result": store path "/nix/store/…-hello": not found
//
// # Example
//
//	nix-build '<nixpkgs>' -A hello
//	closure-scan ./result | popularity --max 100 | layer-pack | manifest-gen --name hello > hello.tar
package main
