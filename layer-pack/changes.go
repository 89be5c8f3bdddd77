package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/rootfs"
)

// changesLayer is --changes: one layer in buildImage's form, from a
// directory (all of it, or what changed since a snapshot) and the planned
// store paths, made by imgkit/rootfs. Its size must be known before its
// first byte, so measure writes it to a temporary file in $TMPDIR (its
// blocks of zeros left as holes: spoolWriter), which is unlinked at once:
// however the run ends (a failure, an interrupt, a reader of stdout
// gone), the space is freed with the process. emit copies it into the
// stream and closes it.
type changesLayer struct {
	dir   string
	opts  rootfs.LayerOptions
	info  layerstream.LayerInfo
	spool *os.File // the packed layer, once measured
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
	// Every Linux id, as tar --owner --group takes it (GNU's base-256
	// form holds those past 2097151).
	uid, err1 := strconv.ParseUint(u, 10, 32)
	gid, err2 := strconv.ParseUint(g, 10, 32)
	if err1 != nil || err2 != nil || uid > cli.MaxID || gid > cli.MaxID {
		return 0, 0, fmt.Errorf("want two ids from 0 to %d, UID:GID", int64(cli.MaxID))
	}
	return int64(uid), int64(gid), nil
}

// changes returns the --changes layer, holding every planned store path.
func (c *command) changes(o *cli.IO, so *storeOptions, plan graphplan.Plan) (layer, error) {
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
		snap, err := rootfs.ReadSnapshotFile(o.OpenNamed, c.Snapshot)
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
	f, err := cli.UnlinkedTemp("layer-pack-changes")
	if err != nil {
		return 0, fmt.Errorf("spooling the layer: %w", err)
	}
	sw := &spoolWriter{f: f}
	bw := bufio.NewWriterSize(sw, 1<<20)
	err = rootfs.WriteLayer(ctx, bw, l.dir, l.opts)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		f.Close()
		return 0, fmt.Errorf("packing %q: %w", l.dir, err)
	}
	size, err := sw.finish()
	if err != nil {
		f.Close()
		return 0, fmt.Errorf("spooling the layer: %w", err)
	}
	l.spool = f
	return size, nil
}

func (l *changesLayer) emit(ctx context.Context, p *pipeline, size int64) error {
	defer l.spool.Close()
	return copyData(p, int(l.spool.Fd()), "the spooled layer", size)
}
