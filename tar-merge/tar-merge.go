package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/oci"
	"dockertools.dev/imgkit/tarsafe"
)

// command is tar-merge's flags. The modes --flatten, --merge (the
// default), --index, --unpack and --store-paths are a kong xor group: kong
// refuses two of them. They stay flags, the spellings the workflows and users
// know; Validate checks what goes with which.
type command struct {
	cli.Common
	Flatten          bool          `xor:"mode" help:"Flatten one image into a root filesystem tar, whiteouts applied."`
	Merge            bool          `xor:"mode" help:"Merge the images into one docker-archive (what happens without another mode)."`
	Index            bool          `xor:"mode" help:"Assemble images for several platforms into one OCI image index, written as an OCI layout tar."`
	LayerCompression compress.Kind `name:"layer-compression" placeholder:"KIND" help:"With --index: store layers compressed as gzip (the default, as push-blob pushes them), zstd or none."`
	Tag              *string       `placeholder:"NAME[:TAG]" help:"With --index: name the multi-platform image in index.json (the full name and the tag, as build-layered-image --format oci does), so that podman load and ctr images import name it; TAG defaults to latest."`
	Image            string        `placeholder:"NAME[:TAG]" help:"With --flatten, --unpack or --store-paths: the image to read when the archive holds several; the first one by default."`
	Platform         string        `placeholder:"OS/ARCH[/VARIANT]" help:"With --flatten, --unpack, --store-paths or a merge: of a multi-platform image (an OCI layout of an image index), the image for this platform, as docker and skopeo choose it from an index. Default: linux and this machine's architecture, and of a multi-platform image holding one image, that image whatever its platform."`
	AllowDevices     bool          `help:"With --flatten, --unpack or --store-paths: keep character and block devices instead of refusing them."`
	Compressor       compress.Kind `default:"none" help:"Compress the output: none, gz or zstd (deterministic)."`
	Output           string        `short:"o" default:"-" placeholder:"FILE" help:"Write to FILE, which appears only when complete; - is stdout."`
	MaxExpanded      cli.ByteSize  `name:"max-expanded-bytes" default:"64GiB" placeholder:"SIZE" help:"Refuse a layer that expands past SIZE bytes (decompressed, sparse files' holes counted), and a compressed archive that decompresses past it. K, M, G, T or KiB…TiB may follow the number."`
	Images           []string      `arg:"" optional:"" name:"image" help:"Image archives (docker-archive or OCI layout, any compression); - is stdin, the default of the modes that read one image."`

	Unpack     string `xor:"mode" placeholder:"DIR" help:"Apply the image's layers onto the existing directory DIR instead of writing a tar (for build-image --run-as-root)."`
	Snapshot   string `placeholder:"FILE" help:"With --unpack: record what DIR holds afterwards in FILE, for layer-pack --changes --snapshot."`
	StorePaths bool   `name:"store-paths" xor:"mode" help:"Print the store paths the image's file system holds, one per line, sorted."`
	StoreDir   string `name:"store-dir" placeholder:"DIR" help:"With --store-paths: the store directory. Default: $NIX_STORE_DIR, else /nix/store."`
}

// oneImage reports whether the mode reads one image: every mode but merge.
func (c *command) oneImage() bool { return c.Flatten || c.Unpack != "" || c.StorePaths }

// StdoutBinary: every mode but --unpack and --store-paths writes a tar,
// to stdout without -o (cli.BinaryStdout).
func (c *command) StdoutBinary() (what, hint string) {
	if c.Output != "-" || c.Unpack != "" || c.StorePaths {
		return "", ""
	}
	return "a tar", "give -o FILE, or redirect stdout"
}

// StdinBinary: an image archive is read from stdin when it is named -,
// or when a mode that reads one image names none (cli.BinaryStdin).
func (c *command) StdinBinary() (what, hint string) {
	if (len(c.Images) > 0 || !c.oneImage()) && !slices.Contains(c.Images, "-") {
		return "", ""
	}
	return "an image archive", "name its file, or pipe one in"
}

// Validate checks what goes with which mode, before any input is read.
func (c *command) Validate() error {
	noTar := c.Unpack != "" || c.StorePaths
	switch {
	case c.MaxExpanded <= 0:
		return cli.Usagef("--max-expanded-bytes must be above 0")
	case c.Snapshot != "" && c.Unpack == "":
		return cli.Usagef("--snapshot goes with --unpack")
	case c.StoreDir != "" && !c.StorePaths:
		return cli.Usagef("--store-dir goes with --store-paths")
	case c.LayerCompression != "" && !c.Index:
		return cli.Usagef("--layer-compression goes with --index")
	case c.Tag != nil && !c.Index:
		return cli.Usagef("--tag goes with --index")
	case c.Tag != nil && *c.Tag == "":
		// An empty value is a name left out by mistake (an unset shell
		// variable), not a request for an unnamed index.
		return cli.Usagef("--tag is empty: give NAME[:TAG], or leave --tag out for an unnamed index")
	case c.Tag != nil && strings.Contains(*c.Tag, "@"):
		// CheckRef (SplitRef) drops a digest, as from an input's RepoTags;
		// here it is the name asked for, and it would be another.
		return cli.Usagef("--tag %q: a digest names no tag: give NAME[:TAG]", *c.Tag)
	case c.Tag != nil && archive.CheckRef(*c.Tag) != nil:
		return cli.Usagef("--tag: %v", archive.CheckRef(*c.Tag))
	case noTar && (c.Compressor != compress.None || c.Output != "-"):
		return cli.Usagef("--unpack and --store-paths write no tar: drop --compressor and -o")
	case !c.oneImage() && (c.Image != "" || c.AllowDevices):
		return cli.Usagef("--image and --allow-devices go with --flatten, --unpack or --store-paths")
	case c.Index && c.Platform != "":
		return cli.Usagef("--platform goes with --flatten, --unpack, --store-paths or a merge: --index takes every platform")
	case c.oneImage() && len(c.Images) > 1:
		return cli.Usagef("--%s takes one image archive, not %d", c.mode(), len(c.Images))
	case !c.oneImage() && len(c.Images) == 0:
		return cli.Usagef("no image archive to %s (give one or more, or --flatten)", c.mode())
	}
	if c.Platform != "" {
		if _, err := oci.ParsePlatform(c.Platform); err != nil {
			return cli.Usagef("--platform: %v", err)
		}
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

// mode names the mode given, as its flag is spelt.
func (c *command) mode() string {
	switch {
	case c.Flatten:
		return "flatten"
	case c.Unpack != "":
		return "unpack"
	case c.StorePaths:
		return "store-paths"
	case c.Index:
		return "index"
	}
	return "merge"
}

func (c *command) Run(ctx context.Context, o *cli.IO) error {
	inputs := c.Images
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	if err := cli.NotAnInput("-o", c.Output, o.Stdin, inputs...); err != nil {
		return err
	}
	if err := cli.NotAnInput("--snapshot", c.Snapshot, o.Stdin, inputs...); err != nil {
		return err
	}
	bound := errdefs.Bound{Max: int64(c.MaxExpanded), Flag: "--max-expanded-bytes"}
	aopts := archive.Options{Expanded: bound, Open: o.OpenNamed}
	if c.oneImage() {
		name := "-"
		if len(c.Images) == 1 {
			name = c.Images[0]
		}
		a, err := archive.OpenWith(name, o.Stdin, aopts)
		if err != nil {
			return err
		}
		defer a.Close()
		ref, tag := "", ""
		if c.Image != "" {
			ref, tag = archive.SplitRef(c.Image)
		}
		find := a.FindDefault
		if c.Platform != "" {
			find = a.FindFor
		}
		img, err := find(ref, tag, c.platform())
		if err != nil {
			return err
		}
		opts := tarsafe.Options{AllowDevices: c.AllowDevices, Expanded: bound}
		switch {
		case c.StorePaths:
			return printStorePaths(ctx, o, img, firstOf(c.StoreDir, o.Env("NIX_STORE_DIR"), "/nix/store"), opts)
		case c.Unpack != "":
			return c.unpack(ctx, o, a, img, opts)
		}
		return c.write(o, c.Compressor, func(w io.Writer) error {
			return flatten(ctx, o, a, img, w, opts)
		})
	}
	var archives []*archive.Archive
	defer func() {
		for _, a := range archives {
			a.Close()
		}
	}()
	m := newMerger(o)
	x := newIndexer(o, cmp.Or(c.LayerCompression, compress.Gzip))
	if c.Tag != nil {
		x.ref = *c.Tag
	}
	for _, name := range c.Images {
		a, err := archive.OpenWith(name, o.Stdin, aopts)
		if err != nil {
			return err
		}
		archives = append(archives, a)
		if c.Index {
			x.add(a, name)
		} else if err := m.add(a, name, c.platform(), c.Platform == ""); err != nil {
			return err
		}
	}
	if c.Index {
		if err := x.platforms(); err != nil {
			return err
		}
		return c.write(o, c.Compressor, func(w io.Writer) error { return x.write(ctx, w) })
	}
	return c.write(o, c.Compressor, func(w io.Writer) error { return m.write(ctx, w) })
}

// platform is the platform whose image is read of a multi-platform image.
// This machine's is a preference: a multi-platform image of one image is
// read whatever its platform, as it was before --platform. A platform
// asked for is a requirement.
func (c *command) platform() v1.Platform {
	if c.Platform == "" {
		return oci.HostPlatform()
	}
	p, _ := oci.ParsePlatform(c.Platform) // checked by Validate
	return p
}

// write runs produce on the output (stdout or an atomic file), through the
// compressor, and checks every flush and close.
func (c *command) write(o *cli.IO, kind compress.Kind, produce func(io.Writer) error) error {
	out := o.Stdout
	var file *cli.AtomicFile
	if c.Output != "-" {
		f, err := o.CreateAtomic(c.Output, 0o644)
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
