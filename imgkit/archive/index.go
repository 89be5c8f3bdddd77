package archive

import (
	"archive/tar"
	"fmt"
	"io"
	"path"
	"strings"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarsafe"
)

// member is one entry of the archive's tar: where its bytes are, or what it
// links to.
type member struct {
	name string
	typ  byte
	off  int64 // of the data in the archive file
	size int64
	link string // symlink or hardlink target, as stored
}

// maxLinkHops bounds link resolution inside the archive (as Linux's
// ELOOP does).
const maxLinkHops = 40

// Bounds on what Open reads into memory. A manifest or index may name one
// config, layer or nested index over and over (an index listing a nested
// index a thousand times, four levels deep, stands for 10^15 images in a
// few hundred kilobytes): each naming costs memory and time again, so
// each counts.
const (
	// maxJSON bounds one manifest, index or config.
	maxJSON = 64 << 20
	// maxJSONTotal bounds the manifests, indexes and configs read,
	// counted each time one is read.
	maxJSONTotal = 4 * maxJSON
	// maxImages bounds the images of an archive.
	maxImages = 1 << 14
	// maxLayerRefs bounds the layers of all images, a layer counted
	// each time an image lists it (Docker loads at most 125 per image).
	maxLayerRefs = 1 << 16
)

// index reads every tar header of the archive once, seeking over data.
// A later member with the same name replaces an earlier one, as extracting
// the archive would.
func (a *Archive) index() error {
	sr := io.NewSectionReader(a.f, 0, a.size)
	tr := tar.NewReader(sr)
	a.members = map[string]*member{}
	for {
		hdr, err := tarsafe.Next(tr)
		if err == io.EOF {
			break
		}
		if err != nil {
			return invalid("not a tar archive, or truncated: %v", err)
		}
		off, _ := sr.Seek(0, io.SeekCurrent)
		name := cleanMember(hdr.Name)
		m := &member{name: name, typ: hdr.Typeflag, off: off, size: hdr.Size, link: hdr.Linkname}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			m.typ = tar.TypeReg
			if isSparse(hdr) {
				m.typ = tar.TypeGNUSparse
			}
			if hdr.Size < 0 || hdr.Size > a.size-off {
				return invalid("member %s claims %d bytes, more than the archive holds", errdefs.Quote(hdr.Name), hdr.Size)
			}
		case tar.TypeSymlink, tar.TypeLink:
			m.size = 0
		case tar.TypeDir, tar.TypeXGlobalHeader:
			continue
		default:
			m.typ = hdr.Typeflag // kept, so a lookup can say why it is unusable
		}
		a.members[name] = m
	}
	return nil
}

func isSparse(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// cleanMember turns a member name into the key of the index: no leading
// "./" or "/", cleaned.
func cleanMember(name string) string {
	name = path.Clean("/" + name)
	return strings.TrimPrefix(name, "/")
}

// lookup returns the regular member called name, following symlinks and
// hardlinks inside the archive (docker save and nixpkgs store a layer that
// appears twice as a link to the first copy).
func (a *Archive) lookup(name string) (*member, error) {
	key := cleanMember(name)
	for hop := 0; hop <= maxLinkHops; hop++ {
		m, ok := a.members[key]
		if !ok {
			return nil, invalid("the manifest names %s, which the archive does not hold", errdefs.Quote(name))
		}
		switch m.typ {
		case tar.TypeReg:
			return m, nil
		case tar.TypeSymlink:
			if strings.HasPrefix(m.link, "/") {
				key = cleanMember(m.link)
			} else {
				key = cleanMember(path.Join(path.Dir(key), m.link))
			}
		case tar.TypeLink:
			key = cleanMember(m.link)
		case tar.TypeGNUSparse:
			return nil, invalid("member %s is stored as a sparse file, which is not supported", errdefs.Quote(name))
		default:
			return nil, invalid("member %s is not a regular file (type %q)", errdefs.Quote(name), m.typ)
		}
	}
	return nil, invalid("member %s: too many levels of links", errdefs.Quote(name))
}

// section returns the bytes of a regular member.
func (a *Archive) section(m *member) *io.SectionReader {
	return io.NewSectionReader(a.f, m.off, m.size)
}

// readSmall reads a member that must fit in memory (a manifest, a config).
func (a *Archive) readSmall(name string) ([]byte, error) {
	m, err := a.lookup(name)
	if err != nil {
		return nil, err
	}
	if m.size > maxJSON {
		return nil, invalid("member %s has %d bytes, more than the %d a manifest or config may have", errdefs.Quote(name), m.size, maxJSON)
	}
	if a.jsonRead += m.size; a.jsonRead > maxJSONTotal {
		return nil, tooMany("the manifests, indexes and configs read pass %d bytes at %s (each counted every time it is named)", maxJSONTotal, errdefs.Quote(name))
	}
	buf := make([]byte, m.size)
	if _, err := a.f.ReadAt(buf, m.off); err != nil {
		return nil, fmt.Errorf("reading member %s: %w", errdefs.Quote(name), err)
	}
	return buf, nil
}

// has reports whether a member exists (of any type).
func (a *Archive) has(name string) bool {
	_, ok := a.members[cleanMember(name)]
	return ok
}
