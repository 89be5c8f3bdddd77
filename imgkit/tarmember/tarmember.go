// Package tarmember writes tars whose large regular members bypass
// archive/tar's Writer: a member's header is encoded apart and its bytes
// go straight to the underlying writer, so that kcopy.CopyN can have the
// kernel copy them (copy_file_range, splice). archive/tar's Writer hides
// the file it writes to, and every byte would pass through user space.
// Small members (a config, a manifest) still go through the tar.Writer;
// the bytes are the tar.Writer's either way, unless Align is set.
package tarmember

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"dockertools.dev/imgkit/cli"
)

// BlockSize is the tar block: members start on its multiples.
const BlockSize = 512

// Writer writes the members of one tar to an io.Writer.
type Writer struct {
	out io.Writer
	// off counts what the Writer writes: its offset in the tar, but for
	// members' bytes, which go to Out (maybe copied by the kernel, past
	// any counter) and which End adds.
	off *cli.CountingWriter
	// Tar writes the small members, and ends the tar (Close).
	Tar *tar.Writer
	// Align, when set (a multiple of BlockSize), makes Begin start each
	// member's bytes at a multiple of Align bytes from the start of the
	// tar: a file system shares extents between two files (a reflink, what
	// copy_file_range does on XFS and Btrfs) only at block-aligned offsets
	// of both, and a member copied from a file of its own starts at 0
	// there. The padding is a PAX extended header before the member's
	// header, holding one "comment" record (which readers ignore: POSIX
	// pax, GNU tar, Go's archive/tar) just long enough. Where the member
	// starts depends only on what the tar holds before it.
	Align int64
	start int64 // where the current member's bytes start
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	c := &cli.CountingWriter{W: w}
	return &Writer{out: w, off: c, Tar: tar.NewWriter(c)}
}

// flusher is a buffered writer (bufio.Writer): the header must leave its
// buffer before bytes the kernel copies go past it.
type flusher interface{ Flush() error }

// Begin writes hdr, a regular member's header: the tar.Writer's previous
// member's padding, then the header blocks (a PAX record when the header
// needs one or Align asks for padding, then USTAR) encoded apart. Exactly
// hdr.Size bytes must follow, written to Out (or copied there with
// kcopy.CopyN), then End.
func (w *Writer) Begin(hdr *tar.Header) error {
	if err := w.Tar.Flush(); err != nil {
		return err
	}
	blocks, err := encode(hdr)
	if err != nil {
		return err
	}
	if w.Align > 0 && (w.off.N+int64(len(blocks)))%w.Align != 0 {
		if blocks, err = w.aligned(hdr, blocks); err != nil {
			return err
		}
	}
	if _, err := w.off.Write(blocks); err != nil {
		return err
	}
	w.start = w.off.N
	if f, ok := w.out.(flusher); ok {
		return f.Flush()
	}
	return nil
}

// encode returns hdr's header blocks. WriteHeader encodes them and
// writes them at once; the writer is dropped before any content.
func encode(hdr *tar.Header) ([]byte, error) {
	var b bytes.Buffer
	if err := tar.NewWriter(&b).WriteHeader(hdr); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// paxComment is the key of the padding record.
const paxComment = "comment"

// aligned returns hdr's header blocks with a padding PAX record: the PAX
// header block, its records (those plain holds, if any, and the padding,
// filling whole blocks), the USTAR block. plain is hdr's blocks without
// the padding.
func (w *Writer) aligned(hdr *tar.Header, plain []byte) ([]byte, error) {
	// The records plain holds already (a size of 8 GiB or more): the
	// size of its PAX header's data.
	var held int64
	if len(plain) > BlockSize && plain[156] == tar.TypeXHeader {
		n, err := strconv.ParseInt(strings.Trim(string(plain[124:136]), " \x00"), 8, 64)
		if err != nil {
			return nil, fmt.Errorf("tarmember: reading the PAX header of %s: %w", hdr.Name, err)
		}
		held = n
	}
	// PAX header block, records, USTAR block: the records' blocks must
	// end Align-aligned less one block.
	data := (-(w.off.N + 2*BlockSize)) % w.Align
	if data < 0 {
		data += w.Align
	}
	const minRecord = len("13 comment=.\n")
	for data < held+int64(minRecord) {
		data += w.Align
	}
	padded := *hdr
	padded.PAXRecords = map[string]string{}
	for k, v := range hdr.PAXRecords {
		padded.PAXRecords[k] = v
	}
	padded.PAXRecords[paxComment] = paxValue(int(data - held))
	blocks, err := encode(&padded)
	if err != nil {
		return nil, err
	}
	if (w.off.N+int64(len(blocks)))%w.Align != 0 {
		return nil, fmt.Errorf("tarmember: aligning %s: a header of %d bytes at offset %d does not end on a multiple of %d", hdr.Name, len(blocks), w.off.N, w.Align)
	}
	return blocks, nil
}

// paxValue returns the value that makes a comment record ("LEN
// comment=VALUE\n", LEN counting itself) exactly n bytes long: spaces.
func paxValue(n int) string {
	fixed := len(" " + paxComment + "=\n")
	return strings.Repeat(" ", n-fixed-len(strconv.Itoa(n)))
}

// Out is where a member's bytes go between Begin and End.
func (w *Writer) Out() io.Writer { return w.out }

// End writes the padding after a member of size bytes.
func (w *Writer) End(size int64) error {
	w.off.N = w.start + size
	if pad := -size & (BlockSize - 1); pad > 0 {
		var zeros [BlockSize]byte
		if _, err := w.off.Write(zeros[:pad]); err != nil {
			return err
		}
	}
	return nil
}
