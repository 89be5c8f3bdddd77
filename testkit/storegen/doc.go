// Package storegen generates synthetic Nix stores and closure graphs for
// benchmarks, demos and tests. Everything it writes is a pure function of a
// Spec (seed included): the same Spec gives the same bytes, names, modes and
// graph on any machine, whatever the umask or the number of cores.
//
// # The store
//
// Generate writes a store under a root directory the way the tools' --root
// flag reads one: the logical store directory /nix/store lives physically
// at ROOT/nix/store. It looks like a real closure:
//
//   - paths are named /nix/store/<32 Nix base32 chars>-<name>-<version>;
//   - references form a DAG by levels, as real closures do: one libc-like
//     path at the bottom is referenced by almost every path, the others
//     are picked with preferential attachment (popular paths get more
//     referrers), and one top path (a buildEnv-like "bench-env") refers to
//     every path nothing else refers to, so its closure is the whole store;
//   - a reference is real: the referenced path's full name is written
//     inside a text file, inside a binary file (NUL-terminated, like an
//     RPATH) or as an absolute symlink target into the referenced path,
//     so a scanner that searches bytes and link targets for hash parts, as
//     Nix's does, finds exactly the manifest's graph. About a third of the
//     paths refer to themselves;
//   - file sizes are log-normal (many small text files, some medium ones,
//     a few large binaries, capped at Spec.MaxFile), scaled so that the
//     regular files add up to Spec.Bytes; binaries are half random, half
//     text, so they compress about as well as real ones;
//   - nested directories, executables (bin/, libexec/, some lib/), relative
//     symlinks (files and lib64 -> lib), hardlinks inside a path, a few
//     long and non-ASCII names, a few paths that are a single file and a
//     few that are themselves a symlink to another path;
//   - modes and times as Nix leaves them: files 0444 or 0555, directories
//     0555, every mtime 1 (1970-01-01T00:00:01Z).
//
// The Manifest returned (and kept as manifest.json by Ensure) lists every
// path with its narSize (exactly what Nix computes), its references and the
// sites where each reference is written, plus totals.
//
// # Graph only
//
// RandomGraph draws a closure graph without writing any file: N paths with
// about K references each, in canonical form (imgkit/graphplan), for
// benchmarks of the graph tools. References follow preferential attachment
// as in the store, or with GraphSpec.Uniform are drawn uniformly among the
// earlier paths, K each: the hard case of the popularity order.
package storegen
