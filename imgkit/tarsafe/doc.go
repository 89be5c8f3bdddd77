// Package tarsafe holds the rules for reading layer tars safely, as
// STYLE.md's "Tar rules" state them, for every tool that applies layers
// (tar-merge's flatten; build-image unpacking base layers).
//
// The rules come in two parts:
//
//   - Classify looks at one header alone: it cleans the name (a leading
//     "/" is relative to the image root; ".." that would leave the root is
//     refused), recognises whiteouts (".wh.NAME" hides NAME,
//     ".wh..wh..opq" makes its directory opaque; a whiteout naming a path
//     outside its directory is refused; other ".wh..wh." names are aufs
//     metadata and ignored with what is below them, as Docker does;
//     an entry below a directory named like a whiteout, ".wh.../x" or
//     "d/.wh..wh..opq/x", is refused, since it would imply that
//     directory), refuses unknown type flags,
//     device nodes unless Options.AllowDevices, absurd sizes, symlinks with
//     no target, hardlink targets outside the root or the entry itself,
//     and names and link targets longer than Linux allows (4095 bytes, 255
//     a name).
//   - CheckPlace looks at the entry against what already exists (a View of
//     the tree being built, lower layers included): a parent that is a
//     symlink is refused (writing through it could land outside the root;
//     absolute symlinks are kept as entries but never followed), as is a
//     parent that is not a directory, and a hardlink must name something
//     that exists already and is not a directory.
//
// CheckOwner refuses a uid or gid that is no Linux id (0 to 4294967294),
// as its PAX record wrote it where it has one (a 32-bit int wraps it);
// its error names the id only, for the caller to name the entry.
//
// Reader reads the layer itself, for those rules to look at: it is
// archive/tar's Reader, except that a sparse file is read as stored (its
// data fragments, with the map that places them; holes are never
// expanded, so a small layer holding a terabyte of holes costs nothing to
// read or to skip) and that the bytes a layer expands to, holes counted,
// are bounded (Options.Expanded, DefaultMaxExpanded): a sparse or
// decompression bomb stops at the bound with an error naming the entry.
//
// Errors are *Error values naming the entry (a name longer than
// errdefs.MaxQuoted bytes is cut, with its length, by errdefs.Quote); they
// wrap errdefs.ErrUnsafeEntry (an entry that could write outside the root
// or is of a refused type), errdefs.ErrInvalidInput (an entry that cannot
// be applied) or errdefs.ErrTooLarge (past the bound). Callers add the
// layer: "layer 2 sha256:…: unsafe entry "../etc/passwd": leaves the
// root".
package tarsafe
