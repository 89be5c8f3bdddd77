package main

// The size of a NAR serialisation, computed from metadata alone. A NAR is a
// sequence of strings, each an 8-byte little-endian length followed by the
// bytes padded with zeros to a multiple of 8:
//
//	"nix-archive-1" node
//	node      = "(" "type" "regular" ["executable" ""] "contents" DATA ")"
//	          | "(" "type" "symlink" "target" TARGET ")"
//	          | "(" "type" "directory" entry* ")"
//	entry     = "entry" "(" "name" NAME "node" node ")"
//
// Entries are sorted by name, but the sum does not depend on their order,
// so no directory is sorted here. A file is executable when its owner may
// execute it (S_IXUSR), as Nix decides.

// narString is the encoded size of a string of n bytes.
func narString(n int64) uint64 { return 8 + (uint64(n)+7)&^7 }

// Most tokens of the grammar are 1 to 8 bytes long and encode in 16 bytes;
// "directory", "executable" and "nix-archive-1" need 24, "" needs 8.
const (
	narToken = 16 // "(", ")", "type", "regular", "symlink", "contents", "target", "entry", "name", "node"

	// narHeader is "nix-archive-1".
	narHeader = 8 + 16
	// narDirectory is a directory node without its entries:
	// "(" "type" "directory" ")".
	narDirectory = 3*narToken + 24
	// narEntry is the framing of a directory entry without its name
	// and node: "entry" "(" "name" … "node" … ")".
	narEntry = 5 * narToken
	// narExecutable is "executable" "".
	narExecutable = 8 + 16 + 8
)

// narRegular is the size of a regular file's node.
func narRegular(size int64, executable bool) uint64 {
	n := 5*narToken + narString(size) // ( type regular contents DATA )
	if executable {
		n += narExecutable
	}
	return n
}

// narSymlink is the size of a symlink's node.
func narSymlink(target string) uint64 {
	return 5*narToken + narString(int64(len(target))) // ( type symlink target TARGET )
}

// narEntryName is the size an entry named name adds to its directory,
// its own node excluded.
func narEntryName(name string) uint64 { return narEntry + narString(int64(len(name))) }
