package main

import (
	"bufio"
	"context"
	"fmt"
	"os"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/rootfs"
	"dockertools.dev/imgkit/tarsafe"
)

// imageMode reports whether a flag asks for one of the modes that read one
// image and write no tar: --unpack and --store-paths.
func (c *command) imageMode() bool { return c.Unpack != "" || c.StorePaths }

// checkImageMode checks the flags of --unpack and --store-paths.
func (c *command) checkImageMode() error {
	switch {
	case c.Unpack != "" && c.StorePaths:
		return cli.Usagef("--unpack and --store-paths exclude each other")
	case c.Flatten || c.Merge:
		return cli.Usagef("--unpack and --store-paths exclude --flatten and --merge")
	case c.Compressor != compress.None || c.Output != "-":
		return cli.Usagef("--unpack and --store-paths write no tar: drop --compressor and -o")
	case c.Snapshot != "" && c.Unpack == "":
		return cli.Usagef("--snapshot goes with --unpack")
	case c.StoreDir != "" && !c.StorePaths:
		return cli.Usagef("--store-dir goes with --store-paths")
	case len(c.Images) > 1:
		return cli.Usagef("--unpack and --store-paths take one image archive, not %d", len(c.Images))
	case len(c.Images) == 0:
		c.Images = []string{"-"}
	}
	return nil
}

// runImageMode unpacks the image onto a directory, or prints its store
// paths.
func (c *command) runImageMode(ctx context.Context, o *cli.IO, a *archive.Archive, bound errdefs.Bound) error {
	name, tag := "", ""
	if c.Image != "" {
		name, tag = archive.SplitRef(c.Image)
	}
	img, err := a.Find(name, tag)
	if err != nil {
		return err
	}
	opts := tarsafe.Options{AllowDevices: c.AllowDevices, Expanded: bound}
	if c.StorePaths {
		return printStorePaths(ctx, o, img, firstOf(c.StoreDir, o.Env("NIX_STORE_DIR"), "/nix/store"), opts)
	}
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
