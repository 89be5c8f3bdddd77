package tarsafe

import (
	"archive/tar"
	"errors"
)

// Next is tr.Next without archive/tar's own check of names, which
// GODEBUG=tarinsecurepath=0 in the environment turns on: it fails on the
// absolute names every nixpkgs store layer has (/nix/store/…), so the same
// image was read or refused by the environment. The header comes with the
// error, the entry is read as any other, and what a name may be is decided
// here (Classify) and by each reader of a member, the same whatever the
// environment. Every archive/tar reader of the tools reads through it.
func Next(tr *tar.Reader) (*tar.Header, error) {
	hdr, err := tr.Next()
	if hdr != nil && errors.Is(err, tar.ErrInsecurePath) {
		err = nil
	}
	return hdr, err
}
