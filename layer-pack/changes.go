package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/format"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/rootfs"
)

// changesLayer is --changes: one layer in buildImage's form, from a
// directory (all of it, or what changed since a snapshot) and the planned
// store paths, made by imgkit/rootfs. It is written to a temporary file
// when measured (its size must be known before its first byte), copied
// into the stream like a ready layer tar, and removed.
type changesLayer struct {
	dir   string
	opts  rootfs.LayerOptions
	info  layerstream.LayerInfo
	inner *fileLayer
}

// validateChanges checks the --changes flags on their own.
func (c *command) validateChanges() error {
	if c.Changes == "" {
		if c.Snapshot != "" || c.ChangesOwner != "" {
			return cli.Usagef("--snapshot and --changes-owner need --changes")
		}
		return nil
	}
	if c.Conf != "" {
		return cli.Usagef("--changes and --conf exclude each other")
	}
	if c.FakerootState != "" {
		return cli.Usagef("--fakeroot-state goes with --customisation-dir, not --changes")
	}
	if c.ChangesOwner != "" {
		if _, _, err := parseOwner(c.ChangesOwner); err != nil {
			return cli.Usagef("--changes-owner %q: %v", c.ChangesOwner, err)
		}
	}
	return nil
}

func parseOwner(s string) (int64, int64, error) {
	u, g, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("want UID:GID")
	}
	uid, err1 := strconv.ParseUint(u, 10, 31)
	gid, err2 := strconv.ParseUint(g, 10, 31)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("want two non-negative integers, UID:GID")
	}
	return int64(uid), int64(gid), nil
}

// changes returns the --changes layer, holding every planned store path.
func (c *command) changes(o *cli.IO, so *storeOptions, plan format.Plan) (layer, error) {
	l := &changesLayer{dir: c.Changes, info: layerstream.LayerInfo{Comment: c.CustomisationComment}}
	l.opts = rootfs.LayerOptions{Mtime: rootfs.DefaultMtime, StoreRoot: so.root, Warnf: o.Logf}
	if c.Mtime != nil {
		l.opts.Mtime = so.mtime
	}
	for _, paths := range plan {
		l.opts.StorePaths = append(l.opts.StorePaths, paths...)
	}
	if c.ChangesOwner != "" {
		l.opts.ForceOwner = true
		l.opts.Uid, l.opts.Gid, _ = parseOwner(c.ChangesOwner) // checked by validateChanges
	}
	for _, x := range c.Exclude {
		name, _ := excludeName(x) // checked by validate
		l.opts.Exclude = append(l.opts.Exclude, strings.TrimPrefix(name, "./"))
	}
	if c.Snapshot != "" {
		snap, err := rootfs.ReadSnapshotFile(c.Snapshot)
		if err != nil {
			return nil, err
		}
		l.opts.Snapshot = snap
	}
	if st, err := os.Stat(c.Changes); err != nil || !st.IsDir() {
		if err == nil {
			return nil, fmt.Errorf("--changes %q: not a directory", c.Changes)
		}
		return nil, fmt.Errorf("--changes: %w", notFound(c.Changes, err))
	}
	return l, nil
}

func (l *changesLayer) describe() (layerstream.LayerInfo, func(layerstream.LayerInfo) error) {
	return l.info, nil
}

func (l *changesLayer) measure(ctx context.Context) (int64, error) {
	f, err := os.CreateTemp("", "layer-pack-changes-*.tar")
	if err != nil {
		return 0, err
	}
	l.inner = &fileLayer{path: f.Name()}
	err = rootfs.WriteLayer(ctx, f, l.dir, l.opts)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return 0, fmt.Errorf("packing %q: %w", l.dir, err)
	}
	n, err := l.inner.measure(ctx)
	if err != nil {
		os.Remove(f.Name())
	}
	return n, err
}

func (l *changesLayer) emit(ctx context.Context, p *pipeline, size int64) error {
	defer os.Remove(l.inner.path)
	return l.inner.emit(ctx, p, size)
}
