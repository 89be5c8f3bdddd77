package main

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/registry"
)

type command struct {
	cli.Common
	Ref       string `arg:"" name:"reference" help:"The image or blob: NAME@sha256:HEX, or NAME:TAG (which warns: a tag is not pinned)."`
	OS        string `name:"os" default:"linux" help:"The operating system to choose from a manifest list."`
	Arch      string `name:"arch" help:"The architecture to choose from a manifest list (default: the host's)."`
	Variant   string `name:"variant" help:"The CPU variant to choose from a manifest list, such as v7 for arm; older variants of it are taken when it is missing (default: the architecture's own: v7 for arm, v8 for arm64, none for amd64)."`
	TLSVerify bool   `name:"tls-verify" default:"true" negatable:"" help:"Verify the registry's TLS certificate; --tls-verify=false also allows plain HTTP."`
	registry.CredsFlags
	Blob    bool `name:"blob" xor:"mode" help:"Write the one blob the digest names (verified) instead of an image's layer stream."`
	Resolve bool `name:"resolve" xor:"mode" help:"Print the digest the reference resolves to (to pin a tag) and nothing else."`
	Jobs    int  `name:"jobs" short:"j" default:"3" help:"How many layers to download at once (1 to ${max_jobs})."`
	LowDisk bool `name:"low-disk" help:"Keep layers compressed in the temporary directory and decompress each twice (less disk, more CPU)."`
	// MaxExpanded is tar-merge's flag, with its default.
	MaxExpanded cli.ByteSize `name:"max-expanded-bytes" default:"64GiB" placeholder:"SIZE" help:"Refuse a layer that decompresses past SIZE bytes, and a layer blob or --blob larger than SIZE. K, M, G, T or KiB…TiB may follow the number."`
	Retries     int          `name:"retries" default:"5" help:"How many times a failed request or a broken-off download is tried again (with backoff from 1s, doubling)."`
	Output      string       `name:"output" short:"o" default:"-" placeholder:"FILE" help:"Where to write the stream or blob; - is stdout. A file appears only when complete."`

	// What Validate parsed, for Run.
	opts registry.Options
	ref  name.Reference // a name.Digest with --blob
}

// StdoutBinary: the layer stream goes to stdout without -o
// (cli.BinaryStdout). --resolve prints a digest, and --blob may well be a
// config, JSON to read.
func (c *command) StdoutBinary() (what, hint string) {
	if c.Output != "-" || c.Resolve || c.Blob {
		return "", ""
	}
	return "a layer stream", "give -o FILE, or pipe it to manifest-gen"
}

// Validate checks the flags and the reference on their own, before any
// request, and keeps what it parsed.
func (c *command) Validate() error {
	if c.Ref == "" {
		return nil // kong checks required arguments after Validate, and says it
	}
	if err := cli.CheckJobs(c.Jobs, 1); err != nil {
		return err
	}
	if c.Retries < 0 {
		return cli.Usagef("--retries %d: at least 0", c.Retries)
	}
	if c.MaxExpanded <= 0 {
		return cli.Usagef("--max-expanded-bytes must be above 0")
	}
	var err error
	if c.opts, err = c.CredsFlags.Options(c.TLSVerify, c.Retries); err != nil {
		return &cli.UsageError{Err: err}
	}
	if c.Blob {
		c.ref, err = registry.ParseDigestReference(c.Ref, !c.TLSVerify)
	} else {
		c.ref, err = registry.ParseReference(c.Ref, !c.TLSVerify)
	}
	if err != nil {
		return &cli.UsageError{Err: err}
	}
	return nil
}

func (c *command) Run(ctx context.Context, o *cli.IO) error {
	if err := c.Credentials(ctx, &c.opts); err != nil {
		return err
	}
	client := registry.New(c.opts)
	return withBrokenPipe(o, func(o *cli.IO) error {
		return c.withOutput(o, func(o *cli.IO) error { return c.run(ctx, o, client) })
	})
}

// withOutput runs f with stdout redirected to the --output file, which is
// renamed into place only when f succeeds.
func (c *command) withOutput(o *cli.IO, f func(*cli.IO) error) error {
	if c.Output == "-" {
		return f(o)
	}
	out, err := o.CreateAtomic(c.Output, 0o644)
	if err != nil {
		return err
	}
	defer out.Abort()
	redirected := *o
	redirected.Stdout = out
	if err := f(&redirected); err != nil {
		return err
	}
	return out.Commit()
}

func (c *command) run(ctx context.Context, o *cli.IO, client *registry.Client) error {
	switch {
	case c.Blob:
		return writeBlob(ctx, o, client, c.ref.(name.Digest), c.bound())
	case c.Resolve:
		m, err := client.Manifest(ctx, c.ref)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(o.Stdout, m.Digest)
		return err
	}
	p := registry.HostPlatform()
	if c.OS != "" {
		p.OS = c.OS
	}
	if c.Arch != "" {
		p.Architecture, p.Variant = c.Arch, ""
	}
	if c.Variant != "" {
		p.Variant = c.Variant
	}
	img, err := resolveImage(ctx, o, client, c.ref, p)
	if err != nil {
		return err
	}
	// A download holds a connection and a spool; the spools waiting for
	// the stream have their own share (spoolBudget).
	jobs := o.FitJobs(c.Jobs, 2)
	return pullImage(ctx, o, client, img, pullOptions{jobs: jobs, lowDisk: c.LowDisk, expanded: c.bound()})
}

// bound is --max-expanded-bytes.
func (c *command) bound() errdefs.Bound {
	return errdefs.Bound{Max: int64(c.MaxExpanded), Flag: "--max-expanded-bytes"}
}
