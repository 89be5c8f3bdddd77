package main

import (
	"context"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/registry"
)

// writeBlob writes the blob ref names to stdout once it is verified: it is
// spooled to a temporary file first, so a blob that fails its digest
// leaves stdout empty. Its size is the registry's word, so the spool may
// not pass bound (a registry that sends without end would fill the disk
// before the digest is checked).
func writeBlob(ctx context.Context, o *cli.IO, client *registry.Client, ref name.Digest, bound errdefs.Bound) error {
	h, err := v1.NewHash(ref.DigestStr())
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	br, err := client.Blob(ctx, ref.Context(), h, -1)
	if err != nil {
		return fmt.Errorf("blob %s: %w", ref, err)
	}
	defer br.Close()
	if br.Size() > bound.Max {
		return fmt.Errorf("blob %s: %d bytes: %w", ref, br.Size(), bound.Past())
	}
	f, err := newSpool()
	if err != nil {
		return err
	}
	defer f.Close()
	bar := registry.NewProgress(o.Stderr, "pulling", o.Quiet)
	bar.AddTotal(br.Size())
	buf := make([]byte, copyBuffer)
	_, err = io.CopyBuffer(writer{f}, compress.Bounded(bar.Reader(br), bound), buf)
	bar.Stop()
	if err != nil {
		return fmt.Errorf("blob %s: %w", ref, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.CopyBuffer(o.Stdout, f, buf); err != nil {
		return fmt.Errorf("writing the blob: %w", err)
	}
	return nil
}
