package testkit

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"dockertools.dev/imgkit/compress"
)

// ListOptions choose what ListTar prints.
type ListOptions struct {
	Sums    bool     // add a short sha256 of each regular file
	Members []string // descend into these nested tar members, in turn
}

// ListTar prints one line per entry of the tar read from r (any
// compression): TYPE MODE UID:GID SIZE NAME [-> LINK].
func ListTar(r io.Reader, w io.Writer, opts ListOptions) error {
	tr, err := descend(r, opts.Members)
	if err != nil {
		return err
	}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		size := fmt.Sprint(hdr.Size)
		if hdr.Typeflag == tar.TypeChar || hdr.Typeflag == tar.TypeBlock {
			size = fmt.Sprintf("%d,%d", hdr.Devmajor, hdr.Devminor)
		}
		line := fmt.Sprintf("%s %04o %d:%d %s %s", typeLetter(hdr), hdr.Mode, hdr.Uid, hdr.Gid, size, hdr.Name)
		if hdr.Linkname != "" {
			line += " -> " + hdr.Linkname
		}
		if opts.Sums && hdr.Typeflag == tar.TypeReg {
			h := sha256.New()
			if _, err := io.Copy(h, tr); err != nil {
				return err
			}
			line += " " + hex.EncodeToString(h.Sum(nil))[:12]
		}
		fmt.Fprintln(w, line)
	}
}

// CatMember copies the content of member name to w, after descending into
// the nested members.
func CatMember(r io.Reader, w io.Writer, members []string, name string) error {
	tr, err := descend(r, members)
	if err != nil {
		return err
	}
	if err := seek(tr, name); err != nil {
		return err
	}
	_, err = io.Copy(w, tr)
	return err
}

func descend(r io.Reader, members []string) (*tar.Reader, error) {
	dr, _, err := compress.NewReader(r)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(dr)
	for _, m := range members {
		if err := seek(tr, m); err != nil {
			return nil, err
		}
		dr, _, err := compress.NewReader(tr)
		if err != nil {
			return nil, err
		}
		tr = tar.NewReader(dr)
	}
	return tr, nil
}

func seek(tr *tar.Reader, name string) error {
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("no member %q", name)
		}
		if err != nil {
			return err
		}
		if hdr.Name == name {
			return nil
		}
	}
}

// typeLetter is the entry's type as tarls prints it; "s" is a sparse file
// in either GNU format: the old one (type 'S') or PAX (GNU.sparse.*
// records on a regular file).
func typeLetter(hdr *tar.Header) string {
	t := hdr.Typeflag
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") && (t == tar.TypeReg || t == tar.TypeRegA) {
			return "s"
		}
	}
	switch t {
	case tar.TypeReg, tar.TypeRegA:
		return "f"
	case tar.TypeDir:
		return "d"
	case tar.TypeSymlink:
		return "l"
	case tar.TypeLink:
		return "h"
	case tar.TypeChar:
		return "c"
	case tar.TypeBlock:
		return "b"
	case tar.TypeFifo:
		return "p"
	}
	return string(bytes.ToLower([]byte{t}))
}
