package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"dockertools.dev/imgkit/archive"
	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layercache"
	"dockertools.dev/imgkit/registry"
)

type command struct {
	cli.Common
	Input            string        `arg:"" name:"image" optional:"" default:"-" help:"The image to push: an image archive (docker-archive or OCI layout tar; uncompressed, gzip, xz, zstd or bzip2) or a layer stream with its config (manifest-gen --format stream, pull-blob); - is stdin."`
	Dest             string        `name:"dest" required:"" placeholder:"REGISTRY/REPO[:TAG]" help:"Where to push: a repository with its registry host, and a tag (default latest)."`
	LayerCompression compress.Kind `name:"layer-compression" default:"gzip" help:"How layers are stored in the registry: gzip (every client reads it), zstd or none. Layers the input already stores this way are pushed as they are."`
	Cache            string        `name:"cache" placeholder:"DIR" help:"A layer cache directory (shared with layer-pack --cache; created if missing): compressed digests known there are asked for without compressing, and what this push learns is recorded."`
	VerifyCache      bool          `name:"verify-cache" help:"Do not take the layer cache's word for a layer's compressed digest: compress the layer again and check the record (a wrong one is replaced). Costs what a push without the cache costs; refused for reference layers, which have no bytes to check."`
	TagReuse         bool          `name:"tag-reuse" default:"true" negatable:"" help:"Take the blobs of layers the destination tag's current image has (same diff_id and compression) without compressing them again; --no-tag-reuse compresses every layer not known from the input or the cache."`
	MountFrom        []string      `name:"mount-from" sep:"none" placeholder:"REPO" help:"A repository of the same registry to mount missing blobs from before uploading them. Repeatable."`
	ArchiveImage     string        `name:"archive-image" placeholder:"NAME[:TAG]" help:"The image of the archive to push, by its tag: one of several images (refused without it), or this machine's of a multi-platform image (default: all of it, as an index). @N takes the Nth image (from 0), tagged or not."`
	ListPresent      bool          `name:"list-present" help:"Print what the destination tag's current image holds, as layer-pack --reuse reads it, and push nothing."`
	TLSVerify        bool          `name:"tls-verify" default:"true" negatable:"" help:"Verify the registry's TLS certificate; --tls-verify=false also allows plain HTTP."`
	registry.CredsFlags
	Jobs      int      `name:"jobs" short:"j" default:"2" help:"How many layers to compress and upload at once (1 to ${max_jobs})."`
	Retries   int      `name:"retries" default:"5" help:"How many times a failed request or a broken-off upload is tried again (with backoff from 1s, doubling)."`
	SBOM      []string `name:"sbom" placeholder:"FILE" sep:"none" help:"An SBOM (CycloneDX or SPDX JSON, such as manifest-gen --sbom-cyclonedx writes) to attach to the pushed image as an OCI artifact whose subject is its manifest. Repeatable."`
	ChunkSize string   `name:"chunk-size" placeholder:"SIZE" help:"Upload blobs in requests of SIZE bytes (k, M and G suffixes allowed), so that a broken connection loses at most one; default: one request per blob (resumed from where the registry stopped)."`

	// What Validate parsed, for Run.
	opts  *pushOptions
	ropts registry.Options
}

func (c *command) Run(ctx context.Context, o *cli.IO) error {
	opts := c.opts
	err := c.Credentials(ctx, &c.ropts)
	if err != nil {
		return err
	}
	// A job holds the layer it reads (a spool for a stream's), the
	// compressed spool, and a connection or two.
	opts.jobs = o.FitJobs(opts.jobs, 4)
	if c.Cache != "" {
		if opts.cache, err = layercache.Open(c.Cache); err != nil {
			return err
		}
		opts.verifyCache = c.VerifyCache
	}
	if opts.sboms, err = readSBOMs(o, c.SBOM); err != nil {
		return err
	}
	client := registry.New(c.ropts)
	if c.ListPresent {
		return listPresent(ctx, o, client, opts.dest, opts.jobs)
	}
	imgs, index, err := openImage(o, c.Input, c.ArchiveImage)
	if err != nil {
		return err
	}
	defer imgs[0].close() // the images of an index share their archive
	if index && len(opts.sboms) > 0 {
		// An SBOM names one image; which image of the index each
		// describes is not known here.
		return fmt.Errorf("--sbom %q: %s is a multi-platform image; attaching an SBOM to one of its images is not supported (--archive-image NAME[:TAG] pushes this machine's image alone, with it): %w", opts.sboms[0].file, inputName(c.Input), errdefs.ErrInvalidInput)
	}
	var digest string
	saved := imgs[0].saved
	if len(opts.sboms) > 0 {
		// An SBOM is attached to an image manifest: that of the one
		// image pushed as itself, not a saved index (refused above when
		// it holds several).
		saved = nil
	}
	if t := asSaved(o, saved, opts.kind, inputName(c.Input)); t != nil {
		digest, err = pushTree(ctx, o, client, t, opts)
	} else if index {
		digest, err = pushIndex(ctx, o, client, imgs, opts)
	} else {
		digest, err = push(ctx, o, client, imgs[0], opts)
	}
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(o.Stdout, "%s@%s\n", opts.repoName, digest); err != nil {
		return fmt.Errorf("writing the digest: %w", err)
	}
	return nil
}

// pushOptions are the flags, checked.
type pushOptions struct {
	dest        name.Tag
	repoName    string // the repository as the user wrote it, for the output
	kind        compress.Kind
	cache       *layercache.Cache
	verifyCache bool
	tagReuse    bool
	mountFrom   []name.Repository
	jobs        int
	chunk       int64
	sboms       []sbomDoc
}

// StdinBinary: the image or stream is read from stdin when it is -,
// unless --list-present reads none (cli.BinaryStdin).
func (c *command) StdinBinary() (what, hint string) {
	if c.Input != "-" || c.ListPresent {
		return "", ""
	}
	return "an image or a layer stream", "name its file, or pipe one in"
}

// Validate checks the flags on their own, before anything is read or
// sent, and keeps what it parsed for Run (which opens the cache).
func (c *command) Validate() error {
	if c.Dest == "" {
		return nil // kong checks required flags after Validate, and says it
	}
	if err := cli.CheckJobs(c.Jobs, 1); err != nil {
		return err
	}
	if c.Retries < 0 {
		return cli.Usagef("--retries %d: at least 0", c.Retries)
	}
	ref, err := registry.ParseReference(c.Dest, !c.TLSVerify)
	if err != nil {
		return &cli.UsageError{Err: fmt.Errorf("--dest: %w", err)}
	}
	tag, ok := ref.(name.Tag)
	if !ok {
		return cli.Usagef("--dest %q: push to a tag (REPO:TAG), not a digest: the digest is what the push prints", c.Dest)
	}
	opts := &pushOptions{dest: tag, tagReuse: c.TagReuse, jobs: c.Jobs, kind: c.LayerCompression}
	opts.repoName, _ = archive.SplitRef(c.Dest)
	if opts.chunk, err = parseSize(c.ChunkSize); err != nil {
		return cli.Usagef("--chunk-size %q: %v", c.ChunkSize, err)
	}
	for _, m := range c.MountFrom {
		r, err := name.NewRepository(m, nameOpts(!c.TLSVerify)...)
		if err != nil {
			return cli.Usagef("--mount-from %q: %v", m, err)
		}
		if r.RegistryStr() != tag.RegistryStr() {
			return cli.Usagef("--mount-from %q: not on the registry of --dest (%s): a mount stays within one registry", m, tag.RegistryStr())
		}
		opts.mountFrom = append(opts.mountFrom, r)
	}
	if c.ListPresent && (c.Input != "-" || c.Cache != "" || len(c.SBOM) > 0) {
		return cli.Usagef("--list-present reads no image, no cache and no SBOM")
	}
	if c.VerifyCache && c.Cache == "" {
		return cli.Usagef("--verify-cache checks the records of --cache DIR: give one")
	}
	if c.ropts, err = c.CredsFlags.Options(c.TLSVerify, c.Retries); err != nil {
		return &cli.UsageError{Err: err}
	}
	c.opts = opts
	return nil
}

func nameOpts(insecure bool) []name.Option {
	if insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// parseSize reads a byte count with an optional k, M or G suffix (powers
// of 1024); "" is 0.
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("too large")
	}
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != s {
		return 0, fmt.Errorf("want a positive number of bytes, with k, M or G")
	}
	return n * mult, nil
}
