// Package bounded reads a whole input into memory within a bound, holding
// little more than the bound when the input is longer (a FIFO or a device
// that never ends, refused at the bound).
//
// io.ReadAll of an io.LimitReader one byte past the bound, used before,
// reads into chunks and at the end copies them into one buffer of their
// length: refusing an endless pipe so made that copy of the bound too,
// twice the bound in all (2.1 times, in TotalAlloc), and refusing at the
// graph's 2 GiB bound peaked at about 4.5 GB. ReadAll here reads into
// chunks that double in size up to maxChunk, each at most what is left of
// the bound and one byte: past it, it drops them without a copy. An input
// within the bound is copied once into a buffer of its length, as
// io.ReadAll's is.
package bounded

import "io"

// Chunk sizes: the first as io.ReadAll's, then doubling, at most maxChunk
// (a chunk read only in part is what is held beyond the input's length).
const (
	minChunk = 512
	maxChunk = 64 << 20
)

// chunkSize is the size of the next chunk when held bytes were read and
// left more may be read (the bound, and one byte past it).
func chunkSize(held, left int64) int {
	return int(min(max(held, minChunk), maxChunk, left))
}

// ReadAll reads r to its end, at most limit bytes: more reports that r
// holds more than limit bytes (data is then nil, and r has been read one
// byte past limit). An error of r's other than io.EOF is returned with
// nil data.
func ReadAll(r io.Reader, limit int64) (data []byte, more bool, err error) {
	var chunks [][]byte
	var held int64
	for {
		left := limit + 1 - held
		if left <= 0 {
			return nil, true, nil
		}
		buf := make([]byte, chunkSize(held, left))
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			chunks = append(chunks, buf[:n])
			held += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, false, err
		}
	}
	if held > limit {
		return nil, true, nil
	}
	switch len(chunks) {
	case 0:
		return []byte{}, false, nil
	case 1:
		return chunks[0], false, nil
	}
	data = make([]byte, 0, held)
	for i, c := range chunks {
		data = append(data, c...)
		chunks[i] = nil // collectable once copied
	}
	return data, false, nil
}
