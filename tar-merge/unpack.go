package main

import (
	"bufio"
	"context"
	"fmt"
	"os"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/rootfs"
	"dockertools.dev/imgkit/tarsafe"
)

// unpack applies the image's layers onto --unpack DIR and writes the
// --snapshot of what DIR then holds.
func (c *command) unpack(ctx context.Context, o *cli.IO, a *archive.Archive, img *archive.Image, opts tarsafe.Options) error {
	if st, err := os.Stat(c.Unpack); err != nil || !st.IsDir() {
		return fmt.Errorf("--unpack %q: not an existing directory", c.Unpack)
	}
	snap, err := rootfs.Unpack(ctx, img, c.Unpack, rootfs.UnpackOptions{Tarsafe: opts, Debugf: o.Debugf})
	if err != nil {
		return fmt.Errorf("unpacking onto %q: %w", c.Unpack, err)
	}
	if err := a.Unchanged(); err != nil {
		return err
	}
	if c.Snapshot == "" {
		return nil
	}
	// As -o FILE: a symlink at FILE (the image may have put one in DIR)
	// is replaced, not written through, and a failure leaves no file. It
	// is made once DIR is unpacked, so that its temporary file is not in
	// the snapshot when FILE is in DIR.
	f, err := o.CreateAtomic(c.Snapshot, 0o644)
	if err != nil {
		return fmt.Errorf("--snapshot: %w", err)
	}
	defer f.Abort()
	if _, err := snap.WriteTo(f); err != nil {
		return fmt.Errorf("--snapshot: writing %q: %w", c.Snapshot, cli.PathCause(err))
	}
	return f.Commit()
}

func printStorePaths(ctx context.Context, o *cli.IO, img *archive.Image, storeDir string, opts tarsafe.Options) error {
	paths, err := rootfs.StorePaths(ctx, img, storeDir, opts)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(o.Stdout)
	for _, p := range paths {
		fmt.Fprintln(bw, p)
	}
	return bw.Flush()
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
