// nix-db writes the Nix database of a closure into an image's root, so
// that Nix run inside the image knows its store: which paths are valid,
// what each refers to and what its contents hash to (nixpkgs'
// includeNixDB, reference §4.5).
//
// Usage:
//
//	nix-db -o ROOT [--gc-root PATH]... [--exclude PATH]... [--holds PLAN]...
//	       [--holds-label TEXT]... [--registration-time N] [--store-dir DIR]
//	       [--key KEY] [-v|-q] [GRAPH]
//	nix-db --check [--gc-root PATH]... [--exclude PATH]... [--holds PLAN]...
//	       [--holds-label TEXT]... [--store-dir DIR] [--key KEY] [GRAPH]
//	nix-db --check --layer TAR [--holds PLAN]... [--holds-label TEXT]...
//
// # Input
//
// A closure graph (docs/formats.md, section 1) from the file GRAPH, or
// from stdin when GRAPH is - or absent, in any shape closure-scan and
// popularity read, with a narHash on every node: what
// `closure-scan --nar-hash PATH...` writes (its narHash is Nix's when Nix
// knows the path, else computed from the files), and what
// `nix path-info --json --recursive` prints. Every node is registered:
// give the closure of the paths the image's Nix should know, nothing
// more. --exclude PATH leaves a node out, with the references to it (the
// non-store roots closure-scan --extra-root adds); any other node outside
// the store directory is an error, and so is excluding a node a registered
// one references (the database would hold a closure that is not one, and
// Nix's garbage collector deletes an unregistered path). A narSize past
// 2^63-1, which SQLite would store as a negative number, is an error.
//
// The database must register only what the image holds: Nix in it takes
// a registered path as there (nix-store --verify reports it gone, a build
// that needs it does not fetch it). --holds PLAN (repeatable) gives a
// layer plan (docs/formats.md, section 2) of the store paths the image
// holds, its store layers and a base image's paths: a registered path in
// none of them is an error. Without it, the caller answers for that (the
// workflows pack the closure of the root the database is in, which names
// every registered path, or pass --holds: a --plan's, a --pipeline's,
// whose remove_paths may leave one out, and the base image's paths).
// An error names the plans "--holds PLAN...", or, with --holds-label
// TEXT given once for each --holds (the first TEXT for the first PLAN),
// by their TEXTs, joined with ", ": what the user gave when PLAN is a
// file made from it (the workflows' "--pipeline FILE", "--from-image
// FILE"; a TEXT that starts with "-" is given as --holds-label=TEXT). A
// pair of flags, not PLAN=TEXT: a file name may hold any byte.
//
// --check reads and checks everything as for writing (the graph, every
// --exclude, --gc-root and --holds) and writes nothing: no -o. The
// workflows check a --pipeline's plan so, made after the database was
// written.
//
// --check --layer TAR checks, instead of a graph, the database a layer
// tar holds (nix/var/nix/db/db.sqlite, the last entry of that name):
// every path its ValidPaths registers must be in a --holds plan. The
// workflows check a --customisation-layer so, whose database its
// builder made (the Nix library's, or one by hand). A layer without one
// passes. The tar is read as tar-merge reads a layer (unsafe entries
// refused), nothing in it is followed, and the database is read in
// memory (at most 1 GiB, held twice: a 900 MB one took 1.8 GB of RSS)
// as a crafted file may be: SQLite's defensive mode, no expression of
// its schema run (CHECK constraints are not), the whole file checked
// (quick_check) and ValidPaths' indexes against its rows
// (integrity_check) before ValidPaths, which must be a table, is read
// (Nix's own WAL-mode database too). A database that is a symlink or
// hardlink or below one, a write-ahead log or journal beside it that is
// not empty (Nix would read it too), a file that is no SQLite database,
// one damaged (an index of ValidPaths that is not its rows too), one
// whose ValidPaths is a view or a virtual table, or one with a
// generated column or an index on an expression or with a WHERE in any
// table (which the checks would run for each row; Nix's has none), is
// an error.
//
// The narHash and narSize of each node are written as the graph gives
// them: nix-db reads no store file. closure-scan --nar-hash computes them
// from the files, or takes Nix's, or a --graph's (trusted as given unless
// closure-scan --verify hashes them).
//
// # Output
//
// Under ROOT, which must exist:
//
//	nix/var/nix/db/db.sqlite            the database
//	nix/var/nix/db/schema               "10", the schema version
//	nix/var/nix/gcroots/docker/NAME     a symlink to PATH, for each --gc-root PATH
//	                                    (NAME is PATH's last element)
//
// Directories are made 0755 and files 0644, whatever the umask; an
// existing directory on the way is used, and nothing is written through a
// symlink. A ROOT that holds a database or one of the links already is an
// error; on any error, what was made is removed again. The state directory is /nix/var/nix, Nix's default,
// whatever --store-dir says.
//
// The database is what `nix-store --load-db` makes of the same closure,
// as nixpkgs' includeNixDB runs it, then sets registrationTime: Nix's
// schema version 10 (the statements of Nix 2.8's schema.sql, read by
// every Nix since 2.0), one ValidPaths row per node (path, narHash as
// base16 as Nix stores it, narSize, registrationTime; no deriver,
// signatures or content address, ultimate unset, as load-db leaves them)
// and one Refs row per reference, self-references included. Nix converts
// its journal mode to WAL the first time it opens it. A .drv file in the
// closure is registered as a path, and its outputs are not recorded in
// DerivationOutputs (which Nix reads only to find a derivation's
// outputs): nix-store --load-db reads the .drv to record them, and so
// fails on one under nixpkgs' root, which holds no store files.
//
// # Reproducible
//
// The same graph and flags give the same bytes. Every registrationTime is
// --registration-time, in seconds since 1970 (default 315532800,
// 1980-01-01, nixpkgs' $SOURCE_DATE_EPOCH); rows are inserted sorted by
// path (the order nix-store --load-db gives them ids in), and references
// by path, all in one transaction; the page size is 4096 and the journal
// mode DELETE, so no write-ahead log is left beside it. Nothing is ever
// deleted, so there are no free pages: the pages follow from the graph
// alone (no VACUUM, which would also reorder the schema away from Nix's).
// The bytes depend on the SQLite library built in (modernc.org/sqlite,
// pinned in go.mod), as the header records its version.
//
// # Exit status
//
// 0 when everything is written (with --check: would be); 1 for a bad
// graph (no narHash, a hash that is not SHA-256, a node outside the store
// directory, a narSize past 2^63-1), an --exclude of a referenced node, a
// registered path that no --holds plan has, a ROOT that holds a database,
// a --layer database refused, or a write that fails; 2 for a usage
// error (no -o without --check, -o with it, a --holds-label count that is
// not --holds', --layer without --check). Errors are one line on stderr,
// for example:
//
//	nix-db: graph: "/nix/store/…-hello" has no narHash (closure-scan --nar-hash gives it): invalid input
//
// # Example
//
//	closure-scan --nar-hash ./result | nix-db -o root --gc-root ./result
//	nix-store --store "local?root=$PWD/root" -q --references ./result
package main
