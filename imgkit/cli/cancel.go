package cli

import (
	"context"
	"errors"
	"os"
)

// cancelled turns the deadline cancelIO set (on Linux) into ctx's error, which the
// tool reports as an interruption.
func cancelled(ctx context.Context, err error) error {
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// errReplaced: the FIFO openInPlace waited for is not what its name opens
// now.
var errReplaced = errors.New("replaced while it was opened")
