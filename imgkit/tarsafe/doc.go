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
//     no target, and hardlink targets outside the root.
//   - CheckPlace looks at the entry against what already exists (a View of
//     the tree being built, lower layers included): a parent that is a
//     symlink is refused (writing through it could land outside the root;
//     absolute symlinks are kept as entries but never followed), as is a
//     parent that is not a directory, and a hardlink must name something
//     that exists already and is not a directory.
//
// Errors are *Error values naming the entry (names longer than
// errdefs.MaxQuoted bytes are cut, with their length, by errdefs.Quote); they wrap
// errdefs.ErrUnsafeEntry (an entry that could write outside the root or is
// of a refused type) or errdefs.ErrInvalidInput (an entry that cannot be
// applied). Callers add the layer: "layer 2 sha256:…: unsafe entry
// "../etc/passwd": leaves the root".
package tarsafe
