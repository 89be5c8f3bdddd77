package main

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarsafe"
)

type command struct {
	cli.Common
	Flatten      bool          `help:"Flatten one image into a root filesystem tar, whiteouts applied."`
	Merge        bool          `help:"Merge the images into one docker-archive (what happens without --flatten)."`
	Image        string        `placeholder:"NAME[:TAG]" help:"With --flatten, the image to flatten when the archive holds several; the first one by default."`
	AllowDevices bool          `help:"With --flatten, keep character and block devices instead of refusing them."`
	Compressor   compress.Kind `default:"none" help:"Compress the output: none, gz or zstd (deterministic)."`
	Output       string        `short:"o" default:"-" placeholder:"FILE" help:"Write to FILE, which appears only when complete; - is stdout."`
	MaxExpanded  cli.ByteSize  `name:"max-expanded-bytes" default:"64GiB" placeholder:"SIZE" help:"Refuse a layer that expands past SIZE bytes (decompressed, sparse files' holes counted), and a compressed archive that decompresses past it. K, M, G, T or KiB…TiB may follow the number."`
	Images       []string      `arg:"" optional:"" name:"image" help:"Image archives (docker-archive or OCI layout, any compression); - is stdin, the default with --flatten."`

	Unpack     string `placeholder:"DIR" help:"Apply the image's layers onto the existing directory DIR instead of writing a tar (for build-image --run-as-root)."`
	Snapshot   string `placeholder:"FILE" help:"With --unpack: record what DIR holds afterwards in FILE, for layer-pack --changes --snapshot."`
	StorePaths bool   `name:"store-paths" help:"Print the store paths the image's file system holds, one per line, sorted."`
	StoreDir   string `name:"store-dir" placeholder:"DIR" help:"With --store-paths: the store directory. Default: $NIX_STORE_DIR, else /nix/store."`
}

func (c *command) Run(ctx context.Context, o *cli.IO) error {
	if err := c.check(); err != nil {
		return err
	}
	bound := errdefs.Bound{Max: int64(c.MaxExpanded), Flag: "--max-expanded-bytes"}
	aopts := archive.Options{Expanded: bound}
	if c.imageMode() {
		a, err := archive.OpenWith(c.Images[0], o.Stdin, aopts)
		if err != nil {
			return err
		}
		defer a.Close()
		return c.runImageMode(ctx, o, a, bound)
	}
	var archives []*archive.Archive
	defer func() {
		for _, a := range archives {
			a.Close()
		}
	}()
	for _, name := range c.Images {
		a, err := archive.OpenWith(name, o.Stdin, aopts)
		if err != nil {
			return err
		}
		archives = append(archives, a)
	}
	if c.Flatten {
		name, tag := "", ""
		if c.Image != "" {
			name, tag = archive.SplitRef(c.Image)
		}
		img, err := archives[0].Find(name, tag)
		if err != nil {
			return err
		}
		opts := tarsafe.Options{AllowDevices: c.AllowDevices, Expanded: bound}
		return c.write(o, c.Compressor, func(w io.Writer) error {
			return flatten(ctx, o, archives[0], img, w, opts)
		})
	}
	m := newMerger(o)
	for i, a := range archives {
		m.add(a, c.Images[i])
	}
	return c.write(o, c.Compressor, func(w io.Writer) error { return m.write(ctx, w) })
}

// check refuses flag combinations that make no sense, as usage errors.
func (c *command) check() error {
	if c.MaxExpanded <= 0 {
		return cli.Usagef("--max-expanded-bytes must be above 0")
	}
	if c.imageMode() {
		return c.checkImageMode()
	}
	switch {
	case c.Snapshot != "" || c.StoreDir != "":
		return cli.Usagef("--snapshot goes with --unpack, --store-dir with --store-paths")
	case c.Flatten && c.Merge:
		return cli.Usagef("--flatten and --merge exclude each other")
	case c.Flatten && len(c.Images) > 1:
		return cli.Usagef("--flatten takes one image archive, not %d", len(c.Images))
	case c.Flatten && len(c.Images) == 0:
		c.Images = []string{"-"}
	case !c.Flatten && len(c.Images) == 0:
		return cli.Usagef("no image archive to merge (give one or more, or --flatten)")
	case !c.Flatten && (c.Image != "" || c.AllowDevices):
		return cli.Usagef("--image and --allow-devices go with --flatten")
	}
	stdin := 0
	for _, name := range c.Images {
		if name == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return cli.Usagef("stdin (-) can be read once")
	}
	return nil
}

// write runs produce on the output (stdout or an atomic file), through the
// compressor, and checks every flush and close.
func (c *command) write(o *cli.IO, kind compress.Kind, produce func(io.Writer) error) error {
	out := o.Stdout
	var file *cli.AtomicFile
	if c.Output != "-" {
		f, err := cli.CreateAtomic(c.Output, 0o644)
		if err != nil {
			return err
		}
		defer f.Abort()
		file, out = f, f
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	zw, err := compress.NewWriter(bw, kind)
	if err != nil {
		return err
	}
	if err := produce(zw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("writing the output: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing the output: %w", err)
	}
	if file != nil {
		return file.Commit()
	}
	return nil
}
