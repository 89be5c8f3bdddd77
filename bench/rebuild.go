package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"dockertools.dev/imgkit/graphplan"
)

// benchRebuildArchive: issue 12's incremental docker-archive build. On
// the pipeline store's plan (popularity --max 100), build-layered-image
// writes an uncompressed docker-archive to a file; one store path then
// changes (a new path, a copy of one with a file added, as a rebuilt
// package is) and the image is built again, either in full (no cache:
// the figure to beat) or as a rebuild with --cache and --layer-tars from
// the first build (its layer tars copied by the kernel). Each run changes
// another path name, so every rebuild has exactly one new layer to pack,
// and its archive must be byte-identical to the full build's. The
// archives, the cache and the layer tars are in the work dir, on its file
// system (benchRebuildArchiveXFS: on XFS).
func benchRebuildArchive(ctx context.Context, b *bench) result {
	dir := filepath.Join(b.scratch, "rebuild")
	defer removeTree(dir) // gigabytes: the next rows need the space
	return rebuildArchive(ctx, b, "rebuild-archive", dir, dir)
}

// rebuildArchive measures the row called name with the store's private
// root under dir and the archives, cache and layer tars under out.
func rebuildArchive(ctx context.Context, b *bench, name, dir, out string) result {
	r := result{target: "rebuild/full ≤ 0.10"}
	script, err := b.script("build-layered-image")
	if err != nil {
		return r.failed(err)
	}
	in, err := b.pipelineInput(ctx)
	if err != nil {
		return r.failed(err)
	}
	plan, err := graphplan.ReadPlan(bytes.NewReader(in.plan))
	if err != nil {
		return r.failed(err)
	}
	// A private root of hard links to the store: the changed paths are
	// made there, never in the cached store.
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r.failed(err)
	}
	if out, err := exec.CommandContext(ctx, "cp", "-al", in.m.Root, root).CombinedOutput(); err != nil {
		return r.failed(fmt.Errorf("linking the store: %v: %s", err, out))
	}
	layer := len(plan) / 2
	old := plan[layer][0]
	// Each run starts with nothing dirty in the page cache: the previous
	// run's 2 GiB being written back would otherwise slow the next.
	build := func(planFile, image string, cached bool) (sample, error) {
		args := []string{"--name", "bench/rebuild", "--tag", "v", "--plan", planFile, "--root", root, "--compressor", "none", "-o", image}
		if cached {
			args = append(args, "--cache", filepath.Join(out, "cache"), "--layer-tars", filepath.Join(out, "tars"))
		}
		os.Remove(image)
		syscall.Sync()
		return b.run(ctx, []stage{command("build-layered-image", script, args...)}, nil, nil)
	}
	first := filepath.Join(dir, "plan.json")
	if err := writePlan(first, plan); err != nil {
		return r.failed(err)
	}
	b.logf("%s: the first build, filling the cache", name)
	if _, err := build(first, filepath.Join(out, "first.tar"), true); err != nil {
		return r.failed(err)
	}
	os.Remove(filepath.Join(out, "first.tar"))
	full, re := filepath.Join(out, "full.tar"), filepath.Join(out, "rebuild.tar")
	var ours, limit series
	var info *imageInfo
	for i := range b.runs {
		changed, err := changePath(root, old, i)
		if err != nil {
			return r.failed(err)
		}
		plan[layer][0] = changed
		planFile := filepath.Join(dir, fmt.Sprintf("plan-%d.json", i))
		if err := writePlan(planFile, plan); err != nil {
			return r.failed(err)
		}
		l, err := build(planFile, full, false)
		if err != nil {
			return r.failed(err)
		}
		limit.add(l)
		o, err := build(planFile, re, true)
		if err != nil {
			return r.failed(err)
		}
		ours.add(o)
		if err := sameFiles(re, full); err != nil {
			return r.failed(fmt.Errorf("run %d: the rebuild differs from the full build: %w", i, err))
		}
		if i == 0 {
			if info, err = readImageFile(re, in.m.StoreDir); err != nil {
				return r.failed(fmt.Errorf("the rebuilt image: %w", err))
			}
		}
	}
	r.ours = fmt.Sprintf("%.2f s rebuild", ours.best.seconds())
	r.limit = fmt.Sprintf("%.2f s full", limit.best.seconds())
	r.ratio = ours.best.seconds() / limit.best.seconds()
	r.met = r.ratio <= 0.10
	r.rss = fmtBytes(max(ours.best.maxRSS(), limit.best.maxRSS()))
	b.describeStore(&r, in.m, len(in.files), in.total)
	fs := fsType(out)
	r.note("image: %d layers, %s uncompressed, to a file on %s; each run changes %s (layer %d of the plan) into a new path with one file added; the rebuild is byte-identical to the full build (compared), and its diff_ids were recomputed",
		len(info.layers), fmtBytes(totalLayerBytes(info)), fs, old, layer)
	r.note("the rebuild: build-layered-image --compressor none --cache C --layer-tars T (manifest-gen --layer-tars --print-holdings, layer-pack --reuse, manifest-gen copying the held layers with copy_file_range); the full build: the same without --cache and --layer-tars")
	r.note("CPU time: rebuild %.2f s, full build %.2f s", ours.best.cpuSeconds(), limit.best.cpuSeconds())
	shared, err := sharedExtents(re)
	switch {
	case err != nil:
		r.note("shared extents of the last rebuild: not known (filefrag -v: %v)", err)
	default:
		r.note("the last rebuild's archive: %s of its %s in extents it shares with other files (the layer tars), by filefrag -v", fmtBytes(shared.shared), fmtBytes(shared.total))
	}
	if !r.met {
		r.note("MISSED: a docker-archive is one file, so a rebuild writes all of it: on %s copy_file_range copies every byte in the kernel unless the file system shares extents (a reflink: XFS, Btrfs; every layer's bytes start at a 4096-aligned offset of the archive for it), reading the held layer tars back from the disk when the page cache no longer holds them", fs)
	}
	return r
}

// extentUse is how much of a file's extents are shared with other files.
type extentUse struct{ shared, total int64 }

// sharedExtents reads filefrag -v's list of name's extents and adds up
// those flagged shared.
func sharedExtents(name string) (extentUse, error) {
	out, err := exec.Command("filefrag", "-v", name).Output()
	if err != nil {
		return extentUse{}, err
	}
	return parseFilefrag(string(out))
}

// parseFilefrag reads filefrag -v's output: "... (N blocks of B bytes)",
// then a line per extent, "ext: logical: physical: length: expected:
// flags", its logical range "FIRST.. LAST" in blocks (the length is 0 for
// an extent not yet allocated: delayed allocation, ext4).
func parseFilefrag(out string) (extentUse, error) {
	var u extentUse
	var block int64
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, " blocks of "); i >= 0 && block == 0 {
			fmt.Sscanf(line[i:], " blocks of %d bytes", &block)
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 5 {
			continue
		}
		if _, err := strconv.Atoi(strings.TrimSpace(f[0])); err != nil {
			continue
		}
		var first, last int64
		if _, err := fmt.Sscanf(strings.TrimSpace(f[1]), "%d.. %d", &first, &last); err != nil || last < first {
			return u, fmt.Errorf("extent line %q", line)
		}
		u.total += last - first + 1
		if strings.Contains(f[len(f)-1], "shared") {
			u.shared += last - first + 1
		}
	}
	if block == 0 {
		return u, fmt.Errorf("no block size in %q", out)
	}
	u.shared *= block
	u.total *= block
	return u, nil
}

// changePath makes a new store path beside old: a copy of it under another
// hash part (one per run i), with a file added.
func changePath(root, old string, i int) (string, error) {
	base := filepath.Base(old)
	_, name, _ := strings.Cut(base, "-")
	changed := filepath.Join(filepath.Dir(old), fmt.Sprintf("%s%02d-%s", strings.Repeat("z", 30), i, name))
	dst := filepath.Join(root, changed)
	if out, err := exec.Command("cp", "-a", filepath.Join(root, old), dst).CombinedOutput(); err != nil {
		return "", fmt.Errorf("copying %s: %v: %s", old, err, out)
	}
	fi, err := os.Lstat(dst)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return changed, os.WriteFile(dst, fmt.Appendf(nil, "changed %d\n", i), fi.Mode().Perm()|0o200)
	}
	if err := os.Chmod(dst, fi.Mode().Perm()|0o200); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dst, "bench-changed"), fmt.Appendf(nil, "changed %d\n", i), 0o444); err != nil {
		return "", err
	}
	return changed, os.Chmod(dst, fi.Mode().Perm())
}

func writePlan(name string, plan [][]string) error {
	data, err := json.Marshal(plan)
	if err != nil {
		return err
	}
	return os.WriteFile(name, append(data, '\n'), 0o644)
}

// sameFiles compares two files' bytes.
func sameFiles(a, b string) error {
	fa, err := os.Open(a)
	if err != nil {
		return err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return err
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := int64(0); ; {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return fmt.Errorf("they differ in the MiB at byte %d", off)
		}
		off += int64(na)
		for _, e := range []error{ea, eb} {
			if e != nil && e != io.EOF && e != io.ErrUnexpectedEOF {
				return e
			}
		}
		if ea != nil {
			return nil
		}
	}
}

// fsType names the file system holding dir, for the notes.
func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "an unknown file system"
	}
	// f_type is a long: on 32-bit architectures Btrfs's magic is negative.
	fs := uint32(st.Type)
	switch fs {
	case 0xef53:
		return "ext4"
	case 0x9123683e:
		return "Btrfs"
	case 0x58465342:
		return "XFS"
	case 0x01021994:
		return "tmpfs"
	case 0x794c7630:
		return "overlayfs"
	}
	return fmt.Sprintf("a file system of type %#x", fs)
}
