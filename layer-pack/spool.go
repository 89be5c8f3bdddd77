package main

import (
	"bytes"
	"os"
)

// spoolBlock is the unit spoolWriter looks at: a file system's block.
const spoolBlock = 4096

var zeroBlock [spoolBlock]byte

// spoolWriter writes the --changes layer into its spool, passing over
// each whole block of zeros instead of writing it, so that it stays a
// hole: a sparse file of the tree (a root file system's
// /var/log/lastlog, a disk image: gigabytes of holes) is stored whole in
// the layer, whose tar has no holes, as nixpkgs and Docker store it, but
// its zeros take no space in $TMPDIR. The bytes read back are the same.
type spoolWriter struct {
	f   *os.File
	off int64 // where the next byte goes: the layer's size so far
}

func (w *spoolWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		// A run of blocks that are not all zeros goes in one write.
		data := 0
		for data < len(p) && !(len(p)-data >= spoolBlock && bytes.Equal(p[data:data+spoolBlock], zeroBlock[:])) {
			data += min(spoolBlock, len(p)-data)
		}
		if data > 0 {
			if _, err := w.f.WriteAt(p[:data], w.off); err != nil {
				return n - len(p), err
			}
			w.off += int64(data)
			p = p[data:]
		}
		for len(p) >= spoolBlock && bytes.Equal(p[:spoolBlock], zeroBlock[:]) {
			w.off += spoolBlock
			p = p[spoolBlock:]
		}
	}
	return n, nil
}

// finish gives the spool its size, which a hole at its end would not
// give it, and returns it.
func (w *spoolWriter) finish() (int64, error) {
	return w.off, w.f.Truncate(w.off)
}
