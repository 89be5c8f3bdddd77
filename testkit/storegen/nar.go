package storegen

import "path"

// narSize is the length of the NAR serialisation of a planned path, as Nix
// computes narSize. A NAR is a sequence of strings, each an 8-byte length
// then the bytes padded to 8; entries come sorted by name, but their order
// does not change the length, so a sum over the entries is enough.
func (p *storePath) narSize() uint64 {
	n := narString("nix-archive-1")
	for _, e := range p.entries {
		if e.name != "" {
			// "entry" "(" "name" NAME "node" NODE ")"
			n += narString("entry") + narString("(") + narString("name") + narString(path.Base(e.name)) + narString("node") + narString(")")
		}
		n += narString("(") + narString("type") + narString(")")
		switch e.typ {
		case typeDir:
			n += narString("directory")
		case typeSymlink:
			n += narString("symlink") + narString("target") + narString(e.target)
		case typeFile, typeHardlink:
			f := e
			if e.link != nil {
				f = e.link
			}
			n += narString("regular") + narString("contents") + narLen(f.size)
			if f.exec {
				n += narString("executable") + narString("")
			}
		}
	}
	return n
}

func narString(s string) uint64 { return narLen(int64(len(s))) }

func narLen(n int64) uint64 { return 8 + (uint64(n)+7)&^7 }
