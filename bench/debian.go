package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/storefs"
	"dockertools.dev/testkit/storegen"
)

// A store made of a real distribution's packages (-store debian): the
// closure of -debian-roots (default libreoffice-writer, gimp and inkscape:
// 448 store paths, 1.2 GiB in 28,000 files on Debian 12, close to the
// store issue 12 measured on), downloaded once with apt-get download into
// WORK/debian/debs, outside the repository, and unpacked with dpkg-deb -x
// as one store path per package, STORE/<hash>-<package>-<version>, each
// holding nix-support/references: the store paths of its Depends and
// Pre-Depends (the first alternative in the closure), as Nix's store
// paths name what they refer to. A top path refers to the roots. Its
// files are real binaries, libraries, fonts and documentation, in a real
// distribution's mix of sizes, which a generated store only imitates.
//
//	WORK/debian/debs/            the downloaded packages
//	WORK/debian/store-<key>/     the store (root/nix/store/…) and manifest.json

const debianVersion = 1

// debianStore returns the store of the packages' closure, making it on
// first use.
func (b *bench) debianStore(ctx context.Context) (*storegen.Manifest, error) {
	for _, c := range []string{"apt-cache", "apt-get", "dpkg-deb"} {
		if _, err := exec.LookPath(c); err != nil {
			return nil, skipf("-store debian needs %s (Debian's package tools)", c)
		}
	}
	deps, err := aptClosure(ctx, b.debianRoots)
	if err != nil {
		return nil, err
	}
	var names []string
	for p := range deps {
		names = append(names, p)
	}
	slices.Sort(names)
	versions, err := aptVersions(ctx, names)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "v%d %q\n", debianVersion, b.debianRoots)
	for _, p := range names {
		fmt.Fprintf(h, "%s %s %q\n", p, versions[p], deps[p])
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]
	dir := filepath.Join(b.work, "debian", "store-"+key)
	if m, err := storegen.ReadManifest(filepath.Join(dir, "manifest.json")); err == nil {
		m.Root = filepath.Join(dir, "root")
		b.debianKeys[m] = "debian-" + key
		return m, nil
	}
	b.logf("making the Debian store of %s: %d packages (once; cached in %s)", strings.Join(b.debianRoots, ", "), len(names), dir)
	debs, err := b.downloadDebs(ctx, names)
	if err != nil {
		return nil, err
	}
	removeTree(dir)
	m := &storegen.Manifest{Version: storegen.Version, Root: filepath.Join(dir, "root"), StoreDir: "/nix/store"}
	storeDir := m.Physical(m.StoreDir)
	if err := os.MkdirAll(storeDir, 0o755); err != nil {
		return nil, err
	}
	pathOf := map[string]string{}
	for _, p := range names {
		pathOf[p] = storePathName(m.StoreDir, p, versions[p])
	}
	for _, p := range names {
		dst := m.Physical(pathOf[p])
		if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debs[p], dst).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("dpkg-deb -x %s: %v: %s", debs[p], err, bytes.TrimSpace(out))
		}
		var refs []string
		for _, d := range deps[p] {
			refs = append(refs, pathOf[d])
		}
		if err := writeReferences(dst, refs); err != nil {
			return nil, err
		}
	}
	var roots []string
	for _, r := range b.debianRoots {
		roots = append(roots, pathOf[r])
	}
	m.Top = storePathName(m.StoreDir, "bench-debian-top", key)
	if err := writeReferences(m.Physical(m.Top), roots); err != nil {
		return nil, err
	}
	if err := b.describeDebian(ctx, m); err != nil {
		return nil, err
	}
	if err := m.WriteFile(filepath.Join(dir, "manifest.json")); err != nil {
		return nil, err
	}
	b.debianKeys[m] = "debian-" + key
	return m, nil
}

// aptClosure returns the packages of the roots' closure, each with the
// packages its Depends and Pre-Depends name: of a list of alternatives
// (or a virtual package's providers), the first that apt-cache's closure
// has. Only what the roots reach through those choices is kept.
func aptClosure(ctx context.Context, roots []string) (map[string][]string, error) {
	args := append([]string{"depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
		"--no-breaks", "--no-replaces", "--no-enhances"}, roots...)
	out, err := exec.CommandContext(ctx, "apt-cache", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("apt-cache depends %s: %v (run apt-get update first)", strings.Join(roots, " "), err)
	}
	// Each block: a package, then "  Depends: X" lines (" |Depends:" when
	// the next line is an alternative); a virtual X ("<x>") is followed by
	// its providers, indented four spaces.
	type dep struct{ alts []string }
	blocks := map[string][]dep{}
	var cur string
	var pending []string // the alternatives of the dependency being read
	var virtual bool
	flush := func() {
		if cur != "" && len(pending) > 0 {
			blocks[cur] = append(blocks[cur], dep{pending})
		}
		pending = nil
	}
	more := false // the last dependency line was an alternative ("|")
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !strings.HasPrefix(line, " "):
			flush()
			cur = line
			if strings.HasPrefix(cur, "<") {
				cur = ""
			}
			if _, ok := blocks[cur]; !ok && cur != "" {
				blocks[cur] = nil
			}
		case strings.HasPrefix(line, "    "):
			if virtual {
				pending = append(pending, strings.TrimSpace(line))
			}
		default:
			kind, target, ok := strings.Cut(strings.TrimSpace(line), ": ")
			if !ok {
				continue
			}
			alt := strings.HasPrefix(kind, "|")
			kind = strings.TrimPrefix(kind, "|")
			if kind != "Depends" && kind != "PreDepends" {
				continue
			}
			if !more {
				flush()
			}
			more = alt
			virtual = strings.HasPrefix(target, "<")
			if !virtual {
				pending = append(pending, target)
			}
		}
	}
	flush()
	deps := map[string][]string{}
	var visit func(p string) error
	visit = func(p string) error {
		if _, ok := deps[p]; ok {
			return nil
		}
		ds, ok := blocks[p]
		if !ok {
			return fmt.Errorf("apt-cache depends: no package %q", p)
		}
		deps[p] = []string{}
		var out []string
		for _, d := range ds {
			for _, a := range d.alts {
				if _, ok := blocks[a]; ok {
					if a != p && !slices.Contains(out, a) {
						out = append(out, a)
					}
					break
				}
			}
		}
		slices.Sort(out)
		deps[p] = out
		for _, d := range out {
			if err := visit(d); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := visit(r); err != nil {
			return nil, err
		}
	}
	return deps, nil
}

// aptVersions returns each package's candidate version.
func aptVersions(ctx context.Context, names []string) (map[string]string, error) {
	out, err := exec.CommandContext(ctx, "apt-cache", append([]string{"show", "--no-all-versions"}, names...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("apt-cache show: %v", err)
	}
	v := map[string]string{}
	var pkg string
	for _, line := range strings.Split(string(out), "\n") {
		if p, ok := strings.CutPrefix(line, "Package: "); ok {
			pkg = p
		}
		if ver, ok := strings.CutPrefix(line, "Version: "); ok && pkg != "" {
			v[pkg] = ver
		}
	}
	for _, p := range names {
		if v[p] == "" {
			return nil, fmt.Errorf("apt-cache show: no version of %s", p)
		}
	}
	return v, nil
}

// downloadDebs downloads the packages not in WORK/debian/debs yet and
// returns each one's file.
func (b *bench) downloadDebs(ctx context.Context, names []string) (map[string]string, error) {
	dir := filepath.Join(b.work, "debian", "debs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	have := func() (map[string]string, error) {
		files, err := filepath.Glob(filepath.Join(dir, "*.deb"))
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, f := range files {
			m[strings.SplitN(filepath.Base(f), "_", 2)[0]] = f
		}
		return m, nil
	}
	debs, err := have()
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, p := range names {
		if debs[p] == "" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		b.logf("downloading %d packages with apt-get download into %s", len(missing), dir)
		cmd := exec.CommandContext(ctx, "apt-get", append([]string{"download", "-q"}, missing...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("apt-get download: %v: %s", err, lastLine(string(out)))
		}
		if debs, err = have(); err != nil {
			return nil, err
		}
	}
	for _, p := range names {
		if debs[p] == "" {
			return nil, fmt.Errorf("apt-get download left no package file for %s", p)
		}
	}
	return debs, nil
}

// storePathName is STORE/<hash>-<name>-<version>, the hash drawn from the
// name and version, the name made of the characters Nix allows.
func storePathName(storeDir, name, version string) string {
	sum := sha256.Sum256([]byte(name + "\x00" + version))
	hash := make([]byte, storefs.HashLen)
	for i := range hash {
		hash[i] = storefs.Base32[sum[i]&31]
	}
	clean := strings.Map(func(r rune) rune {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+-._?=", r)) {
			return r
		}
		return '_'
	}, name+"-"+version)
	return storeDir + "/" + string(hash) + "-" + clean
}

// writeReferences writes the store paths a store path refers to into its
// nix-support/references, where a scanner finds them.
func writeReferences(dir string, refs []string) error {
	if err := os.MkdirAll(filepath.Join(dir, "nix-support"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "nix-support", "references"), []byte(strings.Join(refs, "\n")+"\n"), 0o644)
}

// describeDebian fills the manifest's paths (references and narSize, as
// closure-scan finds them from the top path) and totals.
func (b *bench) describeDebian(ctx context.Context, m *storegen.Manifest) error {
	cs, err := b.tool("closure-scan")
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if _, err := b.run(ctx, []stage{command("closure-scan", cs, "--source", "scan", "--root", m.Root, m.Top)}, nil, &out); err != nil {
		return err
	}
	g, err := graphplan.ReadGraph(&out, "")
	if err != nil {
		return err
	}
	for _, n := range g {
		p := storegen.Path{Path: n.Path, NarSize: n.NarSize, References: n.References, Kind: "directory"}
		err := filepath.WalkDir(m.Physical(n.Path), func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch {
			case d.Type().IsRegular():
				fi, err := d.Info()
				if err != nil {
					return err
				}
				p.Files++
				p.Bytes += fi.Size()
			case d.IsDir():
				m.Totals.Dirs++
			case d.Type()&fs.ModeSymlink != 0:
				m.Totals.Symlinks++
			}
			return nil
		})
		if err != nil {
			return err
		}
		m.Paths = append(m.Paths, p)
		m.Totals.Paths++
		m.Totals.Files += p.Files
		m.Totals.Bytes += p.Bytes
		m.Totals.References += len(p.References)
		m.Totals.NarSize += p.NarSize
	}
	if len(m.Paths) < 2 {
		return fmt.Errorf("the Debian store's closure has %d paths", len(m.Paths))
	}
	_, err = json.Marshal(m)
	return err
}
