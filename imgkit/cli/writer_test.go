package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"dockertools.dev/imgkit/kcopy"
)

// writer is a tool that writes without end: to stdout, or to the file
// $CLI_TEST_WRITER_OUT (CreateAtomic); mode "write" writes blocks, mode
// "splice" has the kernel copy a file's bytes (kcopy.CopyN), as
// layer-pack and manifest-gen do.
type writer struct{ mode string }

func (w *writer) Run(ctx context.Context, o *IO) error {
	out := o.Stdout
	if name := os.Getenv("CLI_TEST_WRITER_OUT"); name != "" {
		fmt.Fprintln(o.Stderr, "opening")
		a, err := o.CreateAtomic(name, 0o644)
		if err != nil {
			return err
		}
		defer a.Abort()
		out = a
	}
	fmt.Fprintln(o.Stderr, "ready")
	src, err := os.CreateTemp("", "writer-")
	if err != nil {
		return err
	}
	defer os.Remove(src.Name())
	defer src.Close()
	block := make([]byte, 256<<10)
	if _, err := src.Write(block); err != nil {
		return err
	}
	for {
		if w.mode == "splice" {
			if _, err := src.Seek(0, io.SeekStart); err != nil {
				return err
			}
			if _, err := kcopy.CopyN(out, src, int64(len(block))); err != nil {
				return fmt.Errorf("writing: %w", err)
			}
		} else if _, err := out.Write(block); err != nil {
			return fmt.Errorf("writing: %w", err)
		}
	}
}
