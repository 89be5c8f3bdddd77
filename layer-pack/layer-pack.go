package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
	"dockertools.dev/imgkit/storefs"
)

type command struct {
	cli.Common

	Conf     string  `placeholder:"CONF.json" help:"Read nixpkgs' stream configuration (its conf.json) instead of a layer plan on stdin. Its store_layers, store_dir, customisation_layer, mtime, uid, gid, uname and gname are used; flags given explicitly override them."`
	StoreDir string  `name:"store-dir" placeholder:"DIR" help:"The logical store directory; every planned path must be a store path in it. Default: $NIX_STORE_DIR, else /nix/store."`
	Root     string  `default:"/" placeholder:"DIR" help:"Read the logical path P at DIR/P, as a process chrooted to DIR would: no symlink leads out of DIR. Names in the layers stay logical."`
	Mtime    *string `placeholder:"TIME" help:"The mtime of every store-layer entry: an ISO 8601 time (with Z, an offset such as +00:00, or none for UTC) or now. Default: 1970-01-01T00:00:01Z."`
	Uid      *int64  `help:"The uid of every store-layer entry. Default: 0."`
	Gid      *int64  `help:"The gid of every store-layer entry. Default: 0."`
	Uname    *string `help:"The owner name of every store-layer entry. Default: root."`
	Gname    *string `help:"The group name of every store-layer entry. Default: root."`

	CustomisationDir     string   `name:"customisation-dir" xor:"custom" placeholder:"DIR" help:"Add a customisation layer packed from DIR as nixpkgs packs it with GNU tar."`
	CustomisationTar     string   `name:"customisation-tar" xor:"custom" placeholder:"FILE" help:"Add FILE, a ready layer tar, as the customisation layer, byte for byte (a file that is no tar, or a tar cut short, is refused)."`
	FakerootState        string   `name:"fakeroot-state" placeholder:"FILE" help:"With --customisation-dir: take owners, modes and device nodes from FILE, the state saved by fakeroot -s, as tar run inside that fakeroot session would. Files it does not list are owned by 0:0."`
	Exclude              []string `sep:"none" placeholder:"PATH" help:"With --customisation-dir or --changes: leave out PATH (relative to DIR, like ./dev) and everything below it. Repeatable."`
	CustomisationComment string   `name:"customisation-comment" default:"customisation layer" placeholder:"TEXT" help:"The history comment of the customisation layer in the trailer (without --conf; default: customisation layer)."`

	Changes      string `xor:"custom" placeholder:"DIR" help:"Write one layer as nixpkgs' buildImage packs its layer: DIR (GNU tar, every mtime 1980-01-01), then the files of every planned store path (owned by 0:0), instead of store layers of their own. The manual says more (The buildImage layer)."`
	Snapshot     string `placeholder:"FILE" help:"With --changes: only what changed in DIR since tar-merge --unpack recorded FILE, deleted paths as whiteouts."`
	ChangesOwner string `name:"changes-owner" placeholder:"UID:GID" help:"With --changes: the owner of every entry from DIR (buildImage's uid and gid). Default: the owners on disk."`

	Cache string `placeholder:"DIR" help:"A layer cache directory (created if missing, shareable between builds): each packed store layer's diff_id is recorded there. The manual says more (The layer cache)."`
	Reuse string `placeholder:"FILE" help:"With --cache: what the destination holds (push-blob --list-present, or manifest-gen --print-holdings for an oci-dir); a store layer the cache knows and FILE lists is written as a reference, reading no store file."`
}

func (c *command) Run(ctx context.Context, o *cli.IO) error {
	layers, err := c.layers(o)
	if err != nil {
		return err
	}
	cli.GrowPipe(o.Stdout, bufSize)
	// Live memory peaks near 35 MB (two layers' entry caches and the buffer
	// pool); a soft limit keeps the garbage collector from letting the heap
	// double past it, so the process stays under 64 MB.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(48 << 20))
	return pack(ctx, o, layers, o.Stdout)
}

// StdoutBinary: the layer stream always goes to stdout (cli.BinaryStdout).
func (c *command) StdoutBinary() (what, hint string) {
	return "a layer stream", "pipe it to manifest-gen, or redirect stdout"
}

// Validate checks the flags on their own, before any input is read.
func (c *command) Validate() error {
	if err := c.validateChanges(); err != nil {
		return err
	}
	if c.CustomisationDir == "" && c.Changes == "" {
		if c.FakerootState != "" {
			return cli.Usagef("--fakeroot-state needs --customisation-dir")
		}
		if len(c.Exclude) > 0 {
			return cli.Usagef("--exclude needs --customisation-dir")
		}
	}
	if c.Reuse != "" && c.Cache == "" {
		return cli.Usagef("--reuse needs --cache")
	}
	for _, x := range c.Exclude {
		if _, err := excludeName(x); err != nil {
			return cli.Usagef("%v", err)
		}
	}
	if c.Mtime != nil {
		if _, err := parseMtime(*c.Mtime, time.Now); err != nil {
			return cli.Usagef("--mtime: %v", err)
		}
	}
	for _, id := range []struct {
		name string
		v    *int64
	}{{"uid", c.Uid}, {"gid", c.Gid}} {
		if id.v != nil {
			if err := cli.CheckID(id.name, *id.v); err != nil {
				return err
			}
		}
	}
	if err := checkOwnerNames("--", c.Uname, c.Gname); err != nil {
		return cli.Usagef("%v", err)
	}
	return cli.CheckStoreDir(c.StoreDir)
}

// layers reads the plan or the configuration and returns the layers to
// write, after every check that can be made before the first byte.
func (c *command) layers(o *cli.IO) ([]layer, error) {
	conf := &streamConf{}
	var plan graphplan.Plan
	if c.Conf != "" {
		f, err := o.Open(c.Conf)
		if err != nil {
			return nil, fmt.Errorf("reading the configuration: %w", notFound(c.Conf, err))
		}
		conf, err = readConf(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the configuration %q: %w", c.Conf, err)
		}
		plan = conf.StoreLayers
	} else {
		var err error
		if plan, err = graphplan.ReadPlan(o.Stdin); err != nil {
			return nil, err
		}
	}
	so, err := c.storeOptions(o, conf)
	if err != nil {
		return nil, err
	}
	if err := checkPlan(so, plan); err != nil {
		return nil, err
	}
	if c.Changes != "" {
		l, err := c.changes(o, so, plan)
		return []layer{l}, err
	}
	custom, err := c.customisation(o, conf)
	if err != nil {
		return nil, err
	}
	// No image of more layers runs, and each, empty, is a 10240-byte
	// record: a small plan of many [] would make a stream of gigabytes.
	n := len(plan)
	if custom != nil {
		n++
	}
	if n > oci.RuntimeLayerLimit {
		return nil, fmt.Errorf("%d layers, more than the %d runtimes accept: %w", n, oci.RuntimeLayerLimit, errdefs.ErrTooManyLayers)
	}
	sc, err := c.storeCache(o, so)
	if err != nil {
		return nil, err
	}
	var layers []layer
	for _, paths := range plan {
		layers = append(layers, sc.wrap(storeLayer(so, paths), paths))
	}
	if custom != nil {
		layers = append(layers, custom)
	}
	o.Debugf("%d store layers, store directory %q, root %q, mtime %d", len(plan), so.storeDir, so.root, so.mtime)
	return layers, nil
}

// storeOptions settles each store-layer setting: the flag, else the
// configuration, else nixpkgs' default.
func (c *command) storeOptions(o *cli.IO, conf *streamConf) (*storeOptions, error) {
	so := &storeOptions{uname: "root", gname: "root"}
	so.storeDir = firstOf(c.StoreDir, conf.StoreDir, o.Env("NIX_STORE_DIR"), "/nix/store")
	// The configuration's (or $NIX_STORE_DIR's) follows --store-dir's
	// rule, but is input, not a usage error.
	if err := cli.CheckStoreDir(so.storeDir); err != nil {
		return nil, fmt.Errorf("%v: %w", err, errdefs.ErrInvalidInput)
	}
	so.storeDir = path.Clean(so.storeDir)
	root, err := cli.RootDir(c.Root)
	if err != nil {
		return nil, err
	}
	so.root = root
	switch {
	case c.Mtime != nil:
		so.mtime, _ = parseMtime(*c.Mtime, time.Now) // checked by Validate
	case conf.Mtime != "":
		if so.mtime, err = parseMtime(conf.Mtime, time.Now); err != nil {
			return nil, fmt.Errorf("configuration: %v: %w", err, errdefs.ErrInvalidInput)
		}
	default:
		so.mtime, _ = parseMtime(defaultMtime, time.Now)
	}
	so.uid = *firstPtr(c.Uid, conf.Uid, &so.uid)
	so.gid = *firstPtr(c.Gid, conf.Gid, &so.gid)
	so.uname = *firstPtr(c.Uname, conf.Uname, &so.uname)
	so.gname = *firstPtr(c.Gname, conf.Gname, &so.gname)
	return so, nil
}

// checkPlan makes sure every path is a top-level store path of the store
// directory (storeDir/<hash>-<name>, nothing deeper: a path inside a store
// path could lead through a symlink to anywhere) and exists, before
// anything is written.
func checkPlan(so *storeOptions, plan graphplan.Plan) error {
	for i, paths := range plan {
		for _, p := range paths {
			name, err := storefs.PathName(so.storeDir, p)
			if err != nil {
				return fmt.Errorf("layer %d: %w", i, err)
			}
			if err := so.openStore(); err != nil {
				return err
			}
			var st unix.Stat_t
			if err := unix.Fstatat(so.storeFd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fmt.Errorf("layer %d: store path %w", i, notFound(p, err))
			}
		}
	}
	return nil
}

var checksumRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// customisation returns the customisation layer, or nil when there is none.
func (c *command) customisation(o *cli.IO, conf *streamConf) (layer, error) {
	comment := layerstream.LayerInfo{Comment: c.CustomisationComment}
	switch {
	case conf.CustomisationLayer != "" && (c.CustomisationDir != "" || c.CustomisationTar != ""):
		return nil, cli.Usagef("the configuration names a customisation layer already; drop --customisation-dir/--customisation-tar")
	case conf.CustomisationLayer != "":
		return confCustomisation(conf.CustomisationLayer)
	case c.CustomisationTar != "":
		return &fileLayer{path: c.CustomisationTar, follow: true, info: comment}, nil
	case c.CustomisationDir != "":
		do := &dirOptions{root: c.CustomisationDir, excludes: map[string]bool{}, warn: o.Logf}
		for _, x := range c.Exclude {
			name, _ := excludeName(x) // checked by validate
			do.excludes[name] = true
		}
		if c.FakerootState != "" {
			f, err := o.OpenNamed(c.FakerootState)
			if err != nil {
				return nil, fmt.Errorf("reading the fakeroot state: %w", notFound(c.FakerootState, err))
			}
			do.fake, err = readFakeState(f)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("reading the fakeroot state %q: %w", c.FakerootState, err)
			}
		}
		return dirLayer(do, comment), nil
	}
	return nil, nil
}

// confCustomisation is nixpkgs' customisation layer: DIR/layer.tar,
// whose sha256 DIR/checksum states. The trailer names DIR, which nixpkgs'
// history comment shows. DIR is taken as the configuration gives it; the
// two files must be in it, regular files, not symlinks.
func confCustomisation(dir string) (layer, error) {
	data, err := readNoFollow(filepath.Join(dir, "checksum"))
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("customisation layer: %q is a symlink, which is not followed: %w", filepath.Join(dir, "checksum"), errdefs.ErrInvalidInput)
	}
	if errors.Is(err, errNotRegular) {
		return nil, fmt.Errorf("customisation layer: %q is not a regular file: %w", filepath.Join(dir, "checksum"), errdefs.ErrInvalidInput)
	}
	if err != nil {
		return nil, fmt.Errorf("customisation layer: %w", notFound(filepath.Join(dir, "checksum"), err))
	}
	sum := strings.TrimSpace(string(data))
	if !checksumRE.MatchString(sum) {
		return nil, fmt.Errorf("customisation layer: %q holds %q, not a sha256 in hex: %w", filepath.Join(dir, "checksum"), sum, errdefs.ErrInvalidInput)
	}
	check := func(info layerstream.LayerInfo) error {
		if info.DiffID != "sha256:"+sum {
			return fmt.Errorf("customisation layer %q: its checksum file says %s, the bytes hash to %s: %w", dir, sum, info.DiffID, errdefs.ErrDigestMismatch)
		}
		return nil
	}
	return &fileLayer{path: filepath.Join(dir, "layer.tar"), info: layerstream.LayerInfo{Paths: []string{dir}}, check: check}, nil
}

// errNotRegular is readNoFollow's error for a file that is not regular.
var errNotRegular = errors.New("not a regular file")

// readNoFollow reads a small file that must be a regular file, not a
// symlink. It is opened without waiting (O_NONBLOCK), so that a named pipe
// is refused rather than waited on forever.
func readNoFollow(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	return io.ReadAll(io.LimitReader(f, 4096))
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstPtr[T any](ptrs ...*T) *T {
	for _, p := range ptrs {
		if p != nil {
			return p
		}
	}
	return nil
}
