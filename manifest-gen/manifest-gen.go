package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/kcopy"
	"dockertools.dev/imgkit/oci"
	"dockertools.dev/imgkit/pyjson"
	"dockertools.dev/imgkit/sbom"
)

type command struct {
	cli.Common
	Input           string  `arg:"" name:"stream" optional:"" default:"-" help:"The layer stream to read; - is stdin."`
	Output          string  `short:"o" default:"-" placeholder:"FILE" help:"Where to write the image archive; - is stdout. A file appears only when the whole archive is written."`
	Name            string  `short:"n" placeholder:"NAME" help:"Image name, lower-cased as nixpkgs does; may start with a registry host (registry.example:5000/app). Required unless --conf gives repo_tag."`
	RepoTag         *string `name:"repo-tag" placeholder:"NAME[:TAG]" help:"The image's name and tag as nixpkgs' stream script takes them with -t: written as given (NAME alone is NAME:latest), not lower-cased; a name docker refuses (upper case outside the registry host) is refused. Instead of --name and --tag."`
	Tag             *string `short:"t" placeholder:"TAG" help:"Image tag (not empty). Default: the first 32 hex digits of the config's sha256, so the same content always gets the same tag."`
	Config          string  `placeholder:"FILE" help:"A JSON object of Docker config fields (Cmd, Entrypoint, Env, ExposedPorts, WorkingDir, User, Volumes, Labels, StopSignal, Healthcheck, …), copied into the image config with its key order."`
	Architecture    string  `help:"The image architecture, in Go's names (amd64, arm64, …). Default: this machine's."`
	OS              string  `name:"os" help:"The image operating system. Default: linux."`
	Variant         string  `help:"The CPU variant (v7, v8, …). Default: none, and no variant field."`
	Created         string  `placeholder:"TIME" help:"The creation time: ISO 8601 (2024-05-06T07:08:09Z, an offset is kept) or now. Default: 1970-01-01T00:00:01Z."`
	FromImage       string  `placeholder:"FILE" help:"A base image archive (docker-archive or OCI layout tar; uncompressed, gzip, xz, zstd or bzip2). Its layers come first, verified against their diff_ids; its Env is inherited."`
	FromImageName   string  `placeholder:"NAME" help:"With --from-image: the repository name of the image to use in a multi-image archive."`
	FromImageTag    string  `placeholder:"TAG" help:"With --from-image: the tag of the image to use in a multi-image archive."`
	InheritConfig   bool    `help:"With --from-image: inherit every config field of the base image, as a Dockerfile FROM does, ours taking precedence."`
	KeepBaseHistory bool    `help:"With --from-image: keep the base image's own history entries (created_by, comments, empty layers) instead of nixpkgs' one synthesized entry per base layer."`
	BuildImage      bool    `name:"build-image-config" help:"Write the image config as nixpkgs' buildImage writes it, byte for byte: jq's form (two spaces, a final newline), the keys architecture, config, created, os, preferLocalBuild (true), variant (empty without --variant), rootfs, history; created as given (now: this second in UTC, +00:00; one Docker cannot read, such as a date alone, in Python's isoformat); Env the base's then the config's, without de-duplication ([] where neither has one); one history entry {created} per layer, the base's own dropped. Not with --conf, --inherit-config nor --keep-base-history."`
	MaxLayers       int     `default:"125" placeholder:"N" help:"Refuse an image of more than N layers, base layers included. Default: 125, the most Docker accepts."`
	Conf            string  `placeholder:"CONF.json" help:"nixpkgs' stream configuration: architecture, config, created, repo_tag and from_image are read from it (flags given here take precedence)."`
	Verify          bool    `help:"Recompute every stream layer's sha256 and compare it with the stream's diff_id (base layers always are, and so are the stream's except in an uncompressed docker-archive, which the kernel copies unread), and hash what a rebuild reuses on its name: each tar of --layer-tars DIR, each blob of the oci-dir layout a reference links and each of the artifacts a rebuild keeps."`
	PrintBase       bool    `name:"print-base-layers" help:"With --from-image: print the number of layers of the base image and exit, reading no stream (for popularity --base-layers)."`
	PrintPlatform   bool    `name:"print-platform" help:"Print the platform the image is built for, OS/ARCH[/VARIANT] (--os, --architecture and --variant, or their defaults), and exit, reading nothing: the platform whose image of a multi-platform --from-image it takes, for a workflow's tar-merge --platform."`
	PrintHoldings   bool    `name:"print-holdings" help:"With --format oci-dir -o DIR: print the holdings list of the layout in DIR (its layers in --layer-compression) for layer-pack --reuse, and exit, reading no stream: a rebuild then links the layers it has not changed. With --layer-tars DIR: the same for the layer tars in DIR."`
	LayerTars       string  `name:"layer-tars" placeholder:"DIR" help:"With --format docker: a directory of layer tars (made when missing; yours, writable by you alone). The stream's store layers are kept in it; a reference layer (layer-pack --reuse, with --print-holdings' list of DIR) is copied from it, by the kernel when the archive goes uncompressed to a file."`

	Format           string        `enum:"docker,oci,oci-dir,stream" default:"docker" help:"The output: docker (a docker-archive), oci (an OCI image layout in a tar, with manifest.json for docker load), oci-dir (an OCI image layout in the directory -o DIR) or stream (a layer stream with the config, for push-blob)."`
	DigestFile       string        `name:"digest-file" placeholder:"FILE" help:"When the output is complete, write its sha256 (64 hex digits and a newline) to FILE: hashed as it is written, so a caller that pins the archive's hash need not read it again. Not with --format oci-dir."`
	Compressor       compress.Kind `default:"none" help:"Compress the whole output (not oci-dir) with gz or zstd, as nixpkgs' compressor parameter does; the compressed bytes are deterministic too."`
	LayerCompression compress.Kind `name:"layer-compression" default:"none" help:"With --format oci or oci-dir: store layers uncompressed, or compressed with gzip or zstd (deterministic bytes)."`
	Jobs             int           `short:"j" default:"1" help:"With --layer-compression gzip or zstd: how many layers to compress at once, 1 to ${max_jobs} (the manual says when it pays). Fewer under a low limit on open files (-v says); the output does not depend on it."`

	SBOMGraph     string        `name:"sbom-graph" placeholder:"FILE" help:"Make the image's SBOM from this closure graph (closure-scan's; with --nar-hash it carries NAR hashes). The other --sbom flags say where it goes."`
	SBOMPlan      string        `name:"sbom-plan" placeholder:"FILE" help:"The store paths each of the stream's layers holds, as a layer plan (its layer i is the stream's layer i), when the trailer does not list them (layer-pack --changes)."`
	SBOMCycloneDX string        `name:"sbom-cyclonedx" placeholder:"FILE" help:"Write the SBOM as CycloneDX 1.6 JSON to FILE, which appears with the image."`
	SBOMSPDX      string        `name:"sbom-spdx" placeholder:"FILE" help:"Write the SBOM as SPDX 2.3 JSON to FILE, which appears with the image."`
	SBOMInImage   []sbom.Format `name:"sbom-in-image" placeholder:"FORMAT" sep:"none" help:"Put the SBOM in the image, in a top layer of its own, as /sbom/image.cdx.json (cyclonedx) or /sbom/image.spdx.json (spdx). Repeatable."`

	now func() time.Time // the clock, for --created now; nil is time.Now
}

// plan is what the flags and --conf decide before any input is read.
type plan struct {
	name, tag string // tag "" means the content tag
	image     imageConfig
	inherit   bool
	fromImage string
	// configFlags names the options that shape the config; a stream that
	// carries its own config refuses them.
	configFlags []string
	// buildImageCreated is the created of --build-image-config.
	buildImageCreated string
}

// StdoutBinary: the image goes to stdout without -o, unless a --print
// flag prints text instead (cli.BinaryStdout).
func (c *command) StdoutBinary() (what, hint string) {
	if c.Output != "-" || c.PrintBase || c.PrintPlatform || c.PrintHoldings || c.Format == "oci-dir" {
		return "", ""
	}
	if c.Format == "stream" {
		return "a layer stream", "give -o FILE, or pipe it to push-blob"
	}
	return "an image archive", "give -o FILE, or redirect stdout"
}

// StdinBinary: the layer stream is read from stdin unless named, or
// unless a --print flag reads none (cli.BinaryStdin).
func (c *command) StdinBinary() (what, hint string) {
	if c.Input != "-" || c.PrintBase || c.PrintPlatform || c.PrintHoldings {
		return "", ""
	}
	return "a layer stream", "pipe one in (layer-pack | manifest-gen), or name its file"
}

// Validate checks the flags on their own, before any input is read (the
// files --conf and --config name are read by plan, still before the
// stream).
func (c *command) Validate() error {
	if c.MaxLayers < 1 {
		return cli.Usagef("--max-layers %d: an image needs at least one layer", c.MaxLayers)
	}
	if c.MaxLayers > oci.RuntimeLayerLimit {
		return cli.Usagef("--max-layers %d: runtimes refuse images of more than %d layers", c.MaxLayers, oci.RuntimeLayerLimit)
	}
	if err := c.checkFormat(); err != nil {
		return err
	}
	switch {
	case c.Compressor != compress.None && c.Format == "oci-dir":
		return cli.Usagef("--compressor: an oci-dir output is a directory, not one archive to compress")
	case c.DigestFile != "" && c.Format == "oci-dir":
		return cli.Usagef("--digest-file: an oci-dir output is a directory, not one archive to hash")
	case c.FromImage == "-":
		return cli.Usagef("--from-image cannot be stdin: stdin carries the layer stream")
	case c.PrintBase && c.FromImage == "":
		return cli.Usagef("--print-base-layers needs --from-image FILE")
	case c.PrintPlatform && (c.PrintBase || c.PrintHoldings):
		return cli.Usagef("--print-platform prints the platform alone: drop --print-base-layers and --print-holdings")
	case c.FromImage == "" && c.Conf == "" && c.needsBase():
		return errNeedsBase
	case c.BuildImage && (c.Conf != "" || c.InheritConfig || c.KeepBaseHistory):
		return cli.Usagef("--build-image-config writes buildImage's config, which takes neither --conf, --inherit-config nor --keep-base-history")
	}
	if c.Name != "" {
		if _, err := checkName("--name", c.Name); err != nil {
			return err
		}
	}
	if c.Tag != nil {
		if err := checkTag("--tag", *c.Tag); err != nil {
			return err
		}
	}
	for _, f := range []struct{ flag, value string }{{"--architecture", c.Architecture}, {"--os", c.OS}, {"--variant", c.Variant}} {
		if f.value != "" {
			if err := checkPlatform(f.flag, f.value); err != nil {
				return err
			}
		}
	}
	if c.Created != "" {
		if _, err := parseCreated(c.Created, time.Now); err != nil {
			return cli.Usagef("--created: %v", err)
		}
	}
	if err := c.checkSBOM(); err != nil {
		return err
	}
	return c.checkOutputsDistinct()
}

// checkOutputsDistinct refuses two outputs of one name (-o FILE,
// --digest-file, --sbom-cyclonedx, --sbom-spdx): each is renamed into
// place when the image is done, and the last would silently replace the
// other (the image by its SBOM, or by its digest), with exit status 0.
// Names are compared cleaned, and as files when both exist (a symlink or
// hard link to the other); one that exists and is not a regular file
// (/dev/null) is written in place, not renamed over, and may be named
// twice.
func (c *command) checkOutputsDistinct() error {
	type output struct {
		flag, name string
		fi         os.FileInfo // nil when name does not exist
	}
	all := []output{{flag: "--digest-file", name: c.DigestFile}, {flag: "--sbom-cyclonedx", name: c.SBOMCycloneDX}, {flag: "--sbom-spdx", name: c.SBOMSPDX}}
	if c.Output != "-" && c.Format != "oci-dir" {
		all = append([]output{{flag: "-o", name: c.Output}}, all...)
	}
	var outs []output
	for _, o := range all {
		if o.name == "" {
			continue
		}
		o.fi, _ = os.Stat(o.name)
		if o.fi == nil || o.fi.Mode().IsRegular() {
			outs = append(outs, o)
		}
	}
	for i, a := range outs {
		for _, b := range outs[:i] {
			if filepath.Clean(a.name) == filepath.Clean(b.name) || (a.fi != nil && b.fi != nil && os.SameFile(a.fi, b.fi)) {
				return cli.Usagef("%s %q: the file %s %q names too; each output needs a file of its own", a.flag, a.name, b.flag, b.name)
			}
		}
	}
	return nil
}

// plan settles what the flags and --conf decide, reading the --conf and
// --config files; it checks what the conf gives as Validate checks flags.
func (c *command) plan(o *cli.IO) (*plan, error) {
	conf := &nixConf{}
	p := &plan{inherit: c.InheritConfig}
	if c.Conf != "" {
		var err error
		if conf, err = readConf(o, c.Conf); err != nil {
			return nil, err
		}
		p.configFlags = append(p.configFlags, "--conf")
	}
	what, name, tag, tagWhat := "--name", c.Name, "", "--tag"
	if c.Tag != nil {
		tag = *c.Tag
	}
	// A repo_tag (the conf's, or --repo-tag) is written as given, as
	// nixpkgs' stream script writes it; --name is lower-cased, as nixpkgs'
	// Nix code lower-cases name.
	verbatim := false
	rt, rtWhat := conf.RepoTag, fmt.Sprintf("--conf %q: repo_tag", c.Conf)
	if c.RepoTag != nil {
		if c.Name != "" || c.Tag != nil {
			return nil, cli.Usagef("--repo-tag gives the name and tag; drop --name and --tag")
		}
		rt, rtWhat = *c.RepoTag, "--repo-tag"
	}
	if c.RepoTag != nil || rt != "" && (name == "" || c.Tag == nil) {
		rtName, rtTag, err := splitGivenRepoTag(rtWhat, rt)
		if err != nil {
			return nil, err
		}
		if name == "" {
			what, name, verbatim = rtWhat, rtName, true
		}
		if c.Tag == nil {
			tag, tagWhat = rtTag, rtWhat+": tag"
		}
	}
	if name == "" {
		return nil, cli.Usagef("--name is required (or --repo-tag, or a --conf with repo_tag)")
	}
	var err error
	if verbatim {
		err = checkGivenName(what, name)
		p.name = name
	} else {
		p.name, err = checkName(what, name)
	}
	if err != nil {
		return nil, err
	}
	if p.tag = tag; p.tag != "" {
		if err := checkTag(tagWhat, p.tag); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		set  bool
		flag string
	}{{c.Config != "", "--config"}, {c.Architecture != "", "--architecture"}, {c.OS != "", "--os"},
		{c.Variant != "", "--variant"}, {c.Created != "", "--created"}, {c.InheritConfig, "--inherit-config"}} {
		if f.set {
			p.configFlags = append(p.configFlags, f.flag)
		}
	}
	now := c.now
	if now == nil {
		now = time.Now
	}
	created, err := parseCreated(firstOf(c.Created, conf.Created, defaultCreated), now)
	if err != nil {
		return nil, &cli.UsageError{Err: err}
	}
	if c.BuildImage {
		if p.buildImageCreated, err = buildImageCreated(c.Created, now); err != nil {
			return nil, &cli.UsageError{Err: err}
		}
	}
	p.image = imageConfig{
		Created:      isoformat(created),
		Architecture: firstOf(c.Architecture, conf.Architecture, runtime.GOARCH),
		OS:           firstOf(c.OS, "linux"),
		Variant:      c.Variant,
		Config:       conf.Config,
	}
	if c.Architecture == "" && conf.Architecture != "" {
		if err := checkPlatform(fmt.Sprintf("--conf %q: architecture", c.Conf), conf.Architecture); err != nil {
			return nil, err
		}
	}
	// The config's field types are checked before any input is read: a
	// config its readers refuse would make an archive nobody can load.
	source, prefix := fmt.Sprintf("--conf %q", c.Conf), "config."
	if c.Config != "" {
		if p.image.Config, err = readJSONObject(o, c.Config, "--config"); err != nil {
			return nil, err
		}
		source, prefix = fmt.Sprintf("--config %q", c.Config), ""
	}
	if err := checkConfigTypes(p.image.Config, prefix); err != nil {
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	p.fromImage = firstOf(c.FromImage, conf.FromImage)
	switch {
	case p.fromImage == "-":
		return nil, cli.Usagef("--from-image cannot be stdin: stdin carries the layer stream")
	case p.fromImage == "" && c.needsBase():
		return nil, errNeedsBase
	}
	return p, nil
}

// needsBase reports whether a flag given makes sense only with a base
// image: from --from-image, else from --conf's from_image.
func (c *command) needsBase() bool {
	return c.InheritConfig || c.KeepBaseHistory || c.FromImageName != "" || c.FromImageTag != ""
}

var errNeedsBase = cli.Usagef("--inherit-config, --keep-base-history, --from-image-name and --from-image-tag need --from-image")

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func (c *command) Run(ctx context.Context, o *cli.IO) error {
	if c.PrintBase {
		return c.printBaseLayers(o)
	}
	if c.PrintPlatform {
		if _, err := fmt.Fprintln(o.Stdout, oci.PlatformString(c.flagPlatform())); err != nil {
			return fmt.Errorf("writing the platform: %w", err)
		}
		return nil
	}
	if c.PrintHoldings {
		return c.printHoldings(o)
	}
	p, err := c.plan(o)
	if err != nil {
		return err
	}
	// No output is a file the run reads, the base a --conf names too
	// (known once plan read it): renamed over one, an output replaced it.
	for _, out := range []struct{ flag, name string }{{"-o", c.Output}, {"--digest-file", c.DigestFile},
		{"--sbom-cyclonedx", c.SBOMCycloneDX}, {"--sbom-spdx", c.SBOMSPDX}} {
		if err := cli.NotAnInput(out.flag, out.name, o.Stdin, c.Input, p.fromImage, c.Config, c.Conf, c.SBOMGraph, c.SBOMPlan); err != nil {
			return err
		}
	}
	var base *baseImage
	if p.fromImage != "" {
		platform := v1.Platform{OS: p.image.OS, Architecture: p.image.Architecture, Variant: p.image.Variant}
		if base, err = openBase(o, p.fromImage, c.FromImageName, c.FromImageTag, platform); err != nil {
			return err
		}
		defer base.close()
		base.warnPlatform(o, p.fromImage, platform)
		if n := len(base.layers); n >= c.MaxLayers {
			return fmt.Errorf("base image %q has %d layers, leaving none for the stream's under --max-layers %d: %w", p.fromImage, n, c.MaxLayers, errdefs.ErrTooManyLayers)
		}
	}
	sbomReq, err := c.readSBOM(o)
	if err != nil {
		return err
	}
	tars, err := c.openLayerTars(o)
	if err != nil {
		return err
	}
	defer tars.abort()
	in, err := openStream(ctx, o, c.Input, c.Verify || c.hashWhileCopying())
	if err != nil {
		return err
	}
	defer in.close()
	// --digest-file is made now, as the SBOM files are, and renamed into
	// place with the output: one that cannot be made fails the run before
	// the output is written, not after it is committed.
	var digestOut *cli.AtomicFile
	if c.DigestFile != "" {
		if digestOut, err = o.CreateAtomic(c.DigestFile, 0o644); err != nil {
			return fmt.Errorf("--digest-file: %w", err)
		}
		defer digestOut.Abort()
	}
	out, err := c.openOutput(o)
	if err != nil {
		return err
	}
	defer out.abort()
	// out's file itself, not out: kcopy sees the file under the chain
	// below and has the kernel copy layers into it.
	var sink io.Writer = out.Writer
	var digest *hashingWriter
	if c.DigestFile != "" {
		digest = newHashingWriter(out, sha256.New())
		defer digest.close()
		sink = digest
	}
	zw, err := compress.NewWriter(sink, c.Compressor)
	if err != nil {
		return err
	}
	bw := kcopy.NewWriterSize(zw, 1<<20)
	if c.LayerCompression != compress.None {
		// A job holds up to three descriptors (parallelLayers): the
		// spool of the layer it compresses and the blobs of two layers
		// outstanding.
		c.Jobs = o.FitJobs(c.Jobs, 3)
	}
	a, err := c.newImageWriter(bw, out)
	if err != nil {
		return err
	}
	var layers []layerEntry
	if base != nil {
		if layers, err = copyBaseLayers(ctx, o, a, base, p.fromImage); err != nil {
			return err
		}
	}
	own, err := in.copyLayers(o, tars.wrap(a), len(layers), c.MaxLayers)
	if err != nil {
		return err
	}
	layers = append(layers, own...)
	if len(layers) == 0 {
		return fmt.Errorf("%s: no layers, and no base image: an image needs at least one layer: %w", in.name, errdefs.ErrInvalidInput)
	}
	config, err := c.configBytes(p, base, in.r.Config(), layers)
	if err != nil {
		return err
	}
	var sbomOut *sbomFiles
	defer func() { sbomOut.abort() }() // after a commit, nothing is left to remove
	if sbomReq != nil {
		if layers, config, sbomOut, err = c.addSBOM(o, a, sbomReq, p, base, in, layers, config); err != nil {
			return err
		}
	}
	if err := checkDiffIDs(a, layers); err != nil {
		return fmt.Errorf("%s: %w", in.name, err)
	}
	o.Debugf("adding the config and manifest.json")
	if err := a.finish(config, p.repoTag); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing the archive: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("writing the archive: %w", err)
	}
	if digestOut != nil {
		if _, err := io.WriteString(digestOut, hex.EncodeToString(digest.sum())+"\n"); err != nil {
			return fmt.Errorf("--digest-file: writing %q: %w", c.DigestFile, cli.PathCause(err))
		}
	}
	if err := tars.commit(in.r.Trailer().Layers); err != nil {
		return err
	}
	return commitOutputs(c.Output, out, sbomOut, digestOut)
}

// commitOutputs puts the output (-o), its SBOM files and --digest-file
// in place, one after another. With more than the output, under a lock
// of the output's directory (cli.LockDir): two builds writing the same
// files at once leave all of one build's, never one's image beside the
// other's SBOM. (A build killed between two of its renames still leaves
// its image beside the SBOM written before: no rename moves two files.)
func commitOutputs(name string, out *output, sbomOut *sbomFiles, digestOut *cli.AtomicFile) error {
	if name != "-" && (sbomOut != nil || digestOut != nil) {
		unlock, err := cli.LockDir(filepath.Dir(filepath.Clean(name)), outputLockWait)
		if err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		defer unlock()
	}
	if err := out.commit(); err != nil {
		return err
	}
	if testHookOutputCommitted != nil {
		testHookOutputCommitted()
	}
	if err := sbomOut.commit(); err != nil {
		return err
	}
	if digestOut != nil {
		if err := digestOut.Commit(); err != nil {
			return fmt.Errorf("--digest-file: %w", err)
		}
	}
	return nil
}

// outputLockWait bounds the wait for another build's commits (a few
// renames each).
const outputLockWait = time.Minute

// testHookOutputCommitted, when set (by tests), runs in commitOutputs
// once the output is in place, before the SBOM files are.
var testHookOutputCommitted func()

// repoTag gives the manifest's name and tag once the config's digest is
// known.
func (p *plan) repoTag(configHex string) (string, string) {
	if p.tag == "" {
		return p.name, contentTag(configHex)
	}
	return p.name, p.tag
}

// configBytes returns the image config: the stream's own, verbatim, when it
// carries one, else the one built from the plan and the layers.
func (c *command) configBytes(p *plan, base *baseImage, verbatim []byte, layers []layerEntry) ([]byte, error) {
	if verbatim != nil {
		if len(p.configFlags) > 0 || base != nil {
			flags := p.configFlags
			if base != nil {
				flags = append(flags, "--from-image")
			}
			return nil, cli.Usagef("the layer stream carries its own image config (kept verbatim so the image ID stays its digest); %v would change it", flags)
		}
		return verbatim, checkVerbatim(verbatim, layers)
	}
	img := p.image
	var baseCfg *pyjson.Object
	if base != nil {
		baseCfg = base.config
	}
	if c.BuildImage {
		baseEnv, err := exactEnv(baseCfg, fmt.Sprintf("base image %q: its config", p.fromImage))
		if err != nil {
			return nil, err
		}
		return buildImageConfig{Created: p.buildImageCreated, Architecture: img.Architecture, Variant: img.Variant,
			Config: img.Config, BaseEnv: baseEnv}.render(layers)
	}
	cfg, err := overlayBase(baseCfg, img.Config, p.inherit)
	if err != nil {
		return nil, err
	}
	// Our own fields were checked by plan; --inherit-config brings the
	// base's, which a crafted base may give types its readers refuse.
	if base != nil {
		if err := checkConfigTypes(cfg, "config."); err != nil {
			return nil, fmt.Errorf("base image %q: its config: %w", p.fromImage, err)
		}
	}
	img.Config = cfg
	if c.KeepBaseHistory && base != nil && base.history != nil {
		img.BaseHistory, img.BaseLayers = base.history, len(base.layers)
	}
	return img.render(layers), nil
}

// output is stdout, a file or (oci-dir) a directory that appears only on
// commit.
type output struct {
	io.Writer
	dir    string     // oci-dir: the directory being written
	old    *oldLayout // oci-dir: the layout in -o DIR it replaces, or nil
	settle func()     // oci-dir: waits for compressors before an abort
	commit func() error
	abort  func()
}

func openOutput(o *cli.IO, name string) (*output, error) {
	if name == "-" {
		return &output{Writer: o.Stdout, commit: func() error { return nil }, abort: func() {}}, nil
	}
	f, err := o.CreateAtomic(name, 0o644)
	if err != nil {
		return nil, err
	}
	return &output{Writer: f, commit: f.Commit, abort: f.Abort}, nil
}

// hashWhileCopying tells whether the stream's layers are verified without
// --verify: a compressed docker-archive reads every byte to compress it
// anyway, and the sha256, taken on a goroutine of its own (asyncHash),
// checks the trailer's diff_ids at a fraction of the compressor's CPU
// time (doc.go). The other formats compute their diff_ids themselves
// (checkDiffIDs), --layer-tars hashes what it copies, and an uncompressed
// archive's layers are the kernel's to copy, unread.
func (c *command) hashWhileCopying() bool {
	return c.Format == "docker" && c.Compressor != compress.None && c.LayerTars == ""
}
