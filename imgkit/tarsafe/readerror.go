package tarsafe

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"

	"dockertools.dev/imgkit/errdefs"
)

// ReadError says where reading a layer stopped making sense (last is the
// name of the last entry read, "" before the first): a truncated layer or
// a corrupt header is errdefs.ErrInvalidInput. A refused entry (an *Error,
// from the Reader) names itself and is returned as it is, as are other
// errors (a digest mismatch found at the layer's end, I/O).
func ReadError(err error, last string) error {
	after := "at its first entry"
	if last != "" {
		after = "in or after entry " + errdefs.Quote(last)
	}
	var te *Error
	switch {
	case errors.As(err, &te):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated %s: %w", after, errdefs.ErrInvalidInput)
	case errors.Is(err, tar.ErrHeader):
		return fmt.Errorf("corrupt tar header %s: %w", after, errdefs.ErrInvalidInput)
	}
	return err
}
