package main

import (
	"bufio"
	"io"
	"os"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
)

// fileCopier is the docker archive's writer when the archive goes,
// uncompressed and unhashed, to a regular file: the output's buffer, and
// past it the file itself. archive.Writer copies a layer member with
// io.Copy to its writer; a layer read from a file (a cached layer tar,
// --layer-tars) is then copied by the kernel from file to file
// (copy_file_range: no byte passes through this process; a file system
// that shares extents, Btrfs or XFS, shares them where the layer's
// offset in the archive is block-aligned). The chain between the buffer and the file (compress.None's
// pass-through, the output) hides the file from the buffer, and must:
// with a compressor or --digest-file every byte has to pass through this
// process, and the buffer's own copy is used. Any other source (the
// stream, a base image, a cached tar hashed for --verify) takes the
// buffer's path too, unchanged.
type fileCopier struct {
	*bufio.Writer
	f *os.File
}

// ReadFrom flushes the buffer, so the file's offset is where the member's
// bytes go, then lets the file copy a file source itself (os.File.ReadFrom
// falls back to a plain copy where copy_file_range cannot be used: across
// file systems, or into a file opened for appending).
func (c *fileCopier) ReadFrom(r io.Reader) (int64, error) {
	if !fileSource(r) {
		return c.Writer.ReadFrom(r)
	}
	if err := c.Flush(); err != nil {
		return 0, err
	}
	return c.f.ReadFrom(r)
}

// fileSource reports whether r is a file, or a length of one (io.CopyN's
// wrapping): what os.File.ReadFrom can hand to the kernel.
func fileSource(r io.Reader) bool {
	if lr, ok := r.(*io.LimitedReader); ok {
		r = lr.R
	}
	_, ok := r.(*os.File)
	return ok
}

// archiveWriter returns the writer for the docker archive: w (the
// output's buffer) itself, or a fileCopier when nothing between w and the
// output changes the bytes and the output is a regular file.
func (c *command) archiveWriter(w io.Writer, out *output) io.Writer {
	bw, ok := w.(*bufio.Writer)
	if !ok || c.Compressor != compress.None || c.DigestFile != "" {
		return w
	}
	var f *os.File
	switch o := out.Writer.(type) {
	case *cli.AtomicFile:
		f = o.File
	case *os.File: // stdout redirected to a file
		f = o
	}
	if f == nil {
		return w
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return w
	}
	return &fileCopier{Writer: bw, f: f}
}
