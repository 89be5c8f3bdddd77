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
	if c.Snapshot != "" {
		if err := snap.WriteFile(c.Snapshot); err != nil {
			return err
		}
	}
	return a.Unchanged()
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
