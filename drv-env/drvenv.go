package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/storefs"
)

type command struct {
	cli.Common
	Output        string `short:"o" required:"" placeholder:"DIR" help:"The directory to write (made new: it must not exist)."`
	Shell         string `required:"" placeholder:"PATH" help:"The shell the image runs, a program in the store (bash, or any POSIX shell such as busybox's sh)."`
	UID           int64  `name:"uid" default:"1000" placeholder:"N" help:"The build user's uid (default 1000)."`
	GID           int64  `name:"gid" default:"1000" placeholder:"N" help:"The build user's gid (default 1000)."`
	HomeDirectory string `name:"home-directory" default:"/build" placeholder:"DIR" help:"The build user's home directory, HOME (default /build)."`
	Command       string `placeholder:"CMD" xor:"cmd" help:"Run CMD in the environment, in an interactive shell, then exit (nix-shell --command)."`
	RunCmd        string `name:"run" placeholder:"CMD" xor:"cmd" help:"Run CMD in the environment, in a non-interactive shell, then exit (nix-shell --run)."`
	Show          string `placeholder:"FILE" help:"What nix derivation show (or nix show-derivation) printed for one derivation; - is stdin."`
	StoreDir      string `name:"store-dir" placeholder:"DIR" help:"The logical store directory (default: $NIX_STORE_DIR, else /nix/store)."`
	Root          string `default:"/" placeholder:"DIR" help:"Read the logical path P at DIR/P, as Nix's chroot store local?root=DIR does."`
	Drv           string `arg:"" optional:"" placeholder:"DRV" help:"The store derivation (a .drv file in the store)."`
}

// buildDir is where Nix builds: NIX_BUILD_TOP in its sandbox.
const buildDir = "/build"

// shellDir holds the rc file and bin/buildDerivation in the image.
const shellDir = "/nix-shell"

// caBundle is where SSL_CERT_FILE points (fake-nss --ca-bundle's file).
const caBundle = "/etc/ssl/certs/ca-bundle.crt"

func (c *command) Run(ctx context.Context, o *cli.IO) error {
	st, err := c.check(o)
	if err != nil {
		return err
	}
	defer st.close()
	drvPath := c.Drv
	if c.Show != "" {
		if drvPath, err = c.fromShow(o, st); err != nil {
			return err
		}
	}
	d, err := st.read(drvPath)
	if err != nil {
		return err
	}
	if _, ok := d.get("__json"); ok {
		return fmt.Errorf("derivation %q uses __structuredAttrs, whose attributes reach the builder as a JSON file, not as an environment; nixpkgs refuses it too: %w", drvPath, errdefs.ErrInvalidInput)
	}
	inputs, err := st.inputs(d)
	if err != nil {
		return err
	}
	shellPath, err := storefs.PathName(st.dir, topLevel(st.dir, c.Shell))
	if err != nil {
		return fmt.Errorf("--shell %q: %w", c.Shell, err)
	}
	inputs = append(inputs, st.dir+"/"+shellPath)
	slices.Sort(inputs)
	inputs = slices.Compact(inputs)
	if err := ctx.Err(); err != nil {
		return err
	}
	e := c.environment(st.dir, d)
	if err := e.config.checkUTF8(); err != nil {
		return fmt.Errorf("derivation %q: %w", drvPath, err)
	}
	return e.write(c.Output, inputs)
}

// Validate checks the flags on their own, before any input is read.
func (c *command) Validate() error {
	if (c.Drv == "") == (c.Show == "") {
		return cli.Usagef("give the derivation: DRV, or --show FILE (not both)")
	}
	// Linux ids: the image's User and /etc/passwd are chown's to read.
	if err := cli.CheckID("uid", c.UID); err != nil {
		return err
	}
	if err := cli.CheckID("gid", c.GID); err != nil {
		return err
	}
	if !path.IsAbs(c.HomeDirectory) || strings.ContainsAny(c.HomeDirectory, ":\n") {
		return cli.Usagef("--home-directory %q: want an absolute path without : or a newline (it is a passwd field)", c.HomeDirectory)
	}
	// An empty one is kong's to report (missing flags), which it does
	// after Validate.
	if c.Shell != "" && !path.IsAbs(c.Shell) {
		return cli.Usagef("--shell %q: want the absolute path of a shell in the store", c.Shell)
	}
	// The shell is buildDerivation's #! line: a newline would end it and
	// make the rest a command of the script.
	if strings.ContainsAny(c.Shell, "\n") {
		return cli.Usagef("--shell %q: want a path without a newline (it is the #! line of buildDerivation)", c.Shell)
	}
	return cli.CheckStoreDir(c.StoreDir)
}

// check places the store and refuses an -o that exists; it opens nothing
// yet.
func (c *command) check(o *cli.IO) (*store, error) {
	dir, root, err := o.Store(c.StoreDir, c.Root)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(c.Output); err == nil {
		return nil, fmt.Errorf("-o %q: exists already; drv-env writes a new directory: %w", c.Output, errdefs.ErrInvalidInput)
	}
	return &store{dir: dir, root: root, fd: -1}, nil
}

// topLevel cuts a path inside a store path to that store path.
func topLevel(storeDir, p string) string {
	rest, ok := strings.CutPrefix(path.Clean(p), storeDir+"/")
	if !ok {
		return p
	}
	name, _, _ := strings.Cut(rest, "/")
	return storeDir + "/" + name
}

// fromShow returns the .drv path of Nix's JSON for one derivation: its one
// key, a full store path (Nix up to 2.2x) or a store path's name.
func (c *command) fromShow(o *cli.IO, st *store) (string, error) {
	in, err := o.Open(c.Show)
	if err != nil {
		return "", err
	}
	defer in.Close()
	data, err := io.ReadAll(io.LimitReader(in, maxDrvSize))
	if err != nil {
		return "", fmt.Errorf("--show %q: %w", c.Show, err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return "", fmt.Errorf("--show %q: not what nix derivation show prints: %v: %w", c.Show, err, errdefs.ErrInvalidInput)
	}
	if len(obj) != 1 {
		return "", fmt.Errorf("--show %q: %d derivations; give one: %w", c.Show, len(obj), errdefs.ErrInvalidInput)
	}
	for k := range obj {
		if !strings.Contains(k, "/") {
			k = st.dir + "/" + k
		}
		return k, nil
	}
	panic("unreachable")
}

// env is what write puts in DIR.
type env struct {
	name        string
	config      config
	rc          string
	builder     string // the buildDerivation script
	attrFiles   []pair // passAsFile: file name in /build, contents
	uid, gid    int64  // Linux ids, past a 32-bit int
	interactive bool
}

type config struct {
	Cmd        []string `json:"Cmd"`
	Env        []string `json:"Env"`
	User       string   `json:"User"`
	WorkingDir string   `json:"WorkingDir"`
}

// checkUTF8 refuses what an image config cannot hold. Its strings are
// JSON, which is UTF-8, and Nix strings are bytes: encoding/json would
// write U+FFFD for each byte that is not UTF-8, a name or value other
// than the derivation's (nixpkgs fails on them: its stream script reads
// the config with Python's json).
func (c config) checkUTF8() error {
	for _, e := range c.Env {
		if !utf8.ValidString(e) {
			name, _, _ := strings.Cut(e, "=")
			return fmt.Errorf("the variable %q is not UTF-8, which an image config (JSON) cannot hold: %w", name, errdefs.ErrInvalidInput)
		}
	}
	for _, a := range c.Cmd {
		if !utf8.ValidString(a) {
			return fmt.Errorf("the command's argument %q is not UTF-8, which an image config (JSON) cannot hold: %w", a, errdefs.ErrInvalidInput)
		}
	}
	return nil
}

// environment computes the image's environment and files (reference
// §4.7), in the order nixpkgs merges them: its own variables, then the
// derivation's, then the build directory's.
func (c *command) environment(storeDir string, d *derivation) *env {
	shellBin := path.Dir(c.Shell)
	staticPath := shellBin + ":" + shellDir + "/bin"
	vars := map[string]string{
		"SSL_CERT_FILE":     caBundle,
		"NIX_SSL_CERT_FILE": caBundle,
		"PATH":              staticPath,
		"HOME":              c.HomeDirectory,
		"NIX_STORE":         storeDir,
		"NIX_BUILD_CORES":   "1",
	}
	e := &env{uid: c.UID, gid: c.GID}
	passAsFile := map[string]bool{}
	if v, ok := d.get("passAsFile"); ok {
		for _, f := range strings.Fields(v) {
			passAsFile[f] = true
		}
	}
	for _, p := range d.env {
		if !passAsFile[p.name] {
			vars[p.name] = p.value
			continue
		}
		file := attrFile(p.name)
		e.attrFiles = append(e.attrFiles, pair{file, p.value})
		vars[p.name+"Path"] = buildDir + "/" + file
	}
	for _, k := range []string{"NIX_BUILD_TOP", "TMPDIR", "TEMPDIR", "TMP", "TEMP", "PWD"} {
		vars[k] = buildDir
	}
	vars["TERM"] = "xterm-256color"

	rcPath := shellDir + "/rc"
	bash := path.Base(c.Shell) == "bash"
	switch {
	case c.RunCmd != "":
		e.config.Cmd = []string{c.Shell, rcPath}
	case bash:
		e.config.Cmd = []string{c.Shell, "--rcfile", rcPath}
	default:
		// Only bash has --rcfile; a POSIX shell started interactive reads
		// the file $ENV names.
		e.config.Cmd = []string{c.Shell, "-i"}
		vars["ENV"] = rcPath
	}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		e.config.Env = append(e.config.Env, k+"="+vars[k])
	}
	e.config.User = strconv.FormatInt(c.UID, 10) + ":" + strconv.FormatInt(c.GID, 10)
	e.config.WorkingDir = buildDir
	e.name, _ = d.get("name")
	e.rc = rcFile(staticPath, c.Shell, c.Command, c.RunCmd)
	e.builder = "#!" + c.Shell + "\nexec " + shellQuote(append([]string{d.builder}, d.args...)) + "\n"
	return e
}

// write makes DIR with config.json, root/, inputs and name; on error it
// removes DIR.
func (e *env) write(dir string, inputs []string) (err error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("-o %q: %w", dir, cli.PathCause(err))
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	cfg, err := json.Marshal(e.config)
	if err != nil {
		return err
	}
	type file struct {
		name string
		data string
		mode os.FileMode
	}
	files := []file{
		{"config.json", string(cfg) + "\n", 0o644},
		{"inputs", strings.Join(inputs, "\n") + "\n", 0o644},
		{"name", e.name + "\n", 0o644},
		{"root" + shellDir + "/rc", e.rc, 0o644},
		{"root" + shellDir + "/bin/buildDerivation", e.builder, 0o755},
	}
	for _, f := range e.attrFiles {
		files = append(files, file{"root" + buildDir + "/" + f.name, f.value, 0o644})
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := mkdirs(dir, filepath.Dir(p)); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(f.data), f.mode); err != nil {
			return fmt.Errorf("writing %q: %w", p, cli.PathCause(err))
		}
		if err := os.Chmod(p, f.mode); err != nil { // the umask took bits
			return fmt.Errorf("writing %q: %w", p, cli.PathCause(err))
		}
	}
	return nil
}

// mkdirs makes the directories from below top down to dir, 0755 whatever
// the umask.
func mkdirs(top, dir string) error {
	if dir == top {
		return nil
	}
	if err := mkdirs(top, filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return fmt.Errorf("making %q: %w", dir, cli.PathCause(err))
	}
	return os.Chmod(dir, 0o755)
}

// shellQuote quotes words for sh: each in single quotes.
func shellQuote(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// store reads .drv files from the store directory, under --root.
type store struct {
	dir  string
	root string
	fd   int
}

// maxDrvSize bounds what is read of a .drv file (nixpkgs' largest are a
// few hundred KiB).
const maxDrvSize = 64 << 20

func (s *store) close() {
	if s.fd >= 0 {
		unix.Close(s.fd)
	}
}

// read reads and parses the store derivation p (a logical path).
func (s *store) read(p string) (*derivation, error) {
	name, err := storefs.PathName(s.dir, p)
	if err != nil {
		return nil, fmt.Errorf("derivation: %w", err)
	}
	if !strings.HasSuffix(name, ".drv") {
		return nil, fmt.Errorf("derivation %q: not a .drv file: %w", p, errdefs.ErrInvalidInput)
	}
	if s.fd < 0 {
		fd, err := storefs.OpenDirInRoot(s.root, s.dir)
		if err != nil {
			return nil, fmt.Errorf("opening the store directory %q: %w", s.dir, cli.PathCause(err))
		}
		s.fd = fd
	}
	fd, err := storefs.OpenBeneath(s.fd, name, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("derivation %q: %w", p, errdefs.ErrNotFound)
		}
		return nil, fmt.Errorf("derivation %q: %w", p, cli.PathCause(err))
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDrvSize+1))
	if err != nil {
		return nil, fmt.Errorf("derivation %q: %w", p, cli.PathCause(err))
	}
	if len(data) > maxDrvSize {
		return nil, fmt.Errorf("derivation %q: larger than %d bytes: %w", p, maxDrvSize, errdefs.ErrTooLarge)
	}
	return parseDerivation(p, data)
}

// inputs returns the store paths a build of d reads: its input sources
// and the outputs of its input derivations that it uses.
func (s *store) inputs(d *derivation) ([]string, error) {
	out := slices.Clone(d.inputSrcs)
	for _, in := range d.inputDrvs {
		dep, err := s.read(in.path)
		if err != nil {
			return nil, fmt.Errorf("input of the derivation: %w", err)
		}
		for _, name := range in.outputs {
			i := slices.IndexFunc(dep.outputs, func(o output) bool { return o.name == name })
			switch {
			case i < 0:
				return nil, fmt.Errorf("input %q has no output %q: %w", in.path, name, errdefs.ErrInvalidInput)
			case dep.outputs[i].path == "":
				return nil, fmt.Errorf("input %q: output %q has no path before it is built (a content-addressed derivation), which is not supported: %w", in.path, name, errdefs.ErrInvalidInput)
			}
			out = append(out, dep.outputs[i].path)
		}
	}
	return out, nil
}
