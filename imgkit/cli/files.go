package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"dockertools.dev/imgkit/bounded"
	"dockertools.dev/imgkit/errdefs"
)

// Open opens a named input (OpenInput, with Run's context); "-" is stdin.
// The returned closer is a no-op for stdin. Stdin that is a file keeps its
// Stat, so that a reader can size its buffer from it: growing a buffer to
// a 600 MB graph read from a file on stdin held 1.5 GB.
func (o *IO) Open(name string) (io.ReadCloser, error) {
	if name == "-" || name == "" {
		if f, ok := o.Stdin.(*os.File); ok {
			return stdinFile{f}, nil
		}
		return stdinReader{o.Stdin}, nil
	}
	return o.OpenNamed(name)
}

// OpenNamed opens the input file name ("-" is a file of that name):
// OpenInput with Run's context, whose cancellation ends a read of a FIFO
// that stalls.
func (o *IO) OpenNamed(name string) (io.ReadCloser, error) {
	return OpenInput(o.context(), name)
}

// context is Run's context; Background for an IO made without Run.
func (o *IO) context() context.Context {
	if o.ctx == nil {
		return context.Background()
	}
	return o.ctx
}

// stdinReader is stdin that is no *os.File (a pipe read through the
// poller, see stdinFor), which Close leaves open; kcopy.CopyN sees through
// it (Unwrap) to splice from the pipe.
type stdinReader struct{ io.Reader }

func (stdinReader) Close() error        { return nil }
func (s stdinReader) Unwrap() io.Reader { return s.Reader }

// stdinFile is stdin as an *os.File that Close leaves open.
type stdinFile struct{ *os.File }

func (stdinFile) Close() error { return nil }

// ContextReader returns a reader of r that fails with ctx's error once ctx
// is cancelled (SIGINT, SIGTERM), so that a long copy stops between reads.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Unwrap and Err let kcopy.CopyN copy from the reader under it, in the
// kernel, still stopping once ctx is cancelled.
func (c ctxReader) Unwrap() io.Reader { return c.r }
func (c ctxReader) Err() error        { return c.ctx.Err() }

// ReadToEnd reads what open returns to its end and discards it, stopping
// once ctx is cancelled: a verifying reader (archive.Layer.Open) checks its
// digests only at EOF, so this checks bytes before they are used as stored.
func ReadToEnd(ctx context.Context, open func() (io.ReadCloser, error)) error {
	r, err := open()
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(io.Discard, ContextReader(ctx, r))
	return err
}

// MaxDocument bounds a JSON document given as a file and read whole (an
// image config, a stream configuration, an SBOM): far more than any of
// them holds (a conf.json of 100,000 store paths is 7 MB), far less than
// the memory of a build machine.
const MaxDocument = 256 << 20

// ReadAllMax is io.ReadAll of at most max bytes: a longer input is an
// error wrapping errdefs.ErrTooLarge, "more than N MiB". A file named for
// a small document may be a FIFO or a device that never ends (/dev/zero),
// which io.ReadAll reads until memory runs out and the runtime stops the
// tool with a stack of goroutines. Refusing one holds about max bytes
// (bounded.ReadAll), where io.ReadAll made a copy of them too.
func ReadAllMax(r io.Reader, max int64) ([]byte, error) {
	data, more, err := bounded.ReadAll(r, max)
	if err != nil {
		return nil, err
	}
	if more {
		return nil, fmt.Errorf("more than %d MiB: %w", max>>20, errdefs.ErrTooLarge)
	}
	return data, nil
}

// CountingReader counts the bytes read through it.
type CountingReader struct {
	R io.Reader
	N int64 // the bytes read so far
}

func (c *CountingReader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}

// CountingWriter counts the bytes written through it.
type CountingWriter struct {
	W io.Writer
	N int64 // the bytes written so far
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}

// AtomicFile is an output file that appears under its final name only when
// Commit succeeds: a failed run leaves nothing behind, nor does a killed
// one (SIGKILL from the OOM killer of a memory-limited CI job or Nix
// build, or a timeout) where the file system makes nameless files.
type AtomicFile struct {
	*os.File
	final string
	done  bool
	// inPlace: name is not a regular file (a device such as /dev/null, a
	// FIFO, /dev/stdout) and is written directly.
	inPlace bool
	// nameless: the file has no name until Commit gives it one (O_TMPFILE);
	// otherwise File.Name() is its temporary name.
	nameless  bool
	dir, base string
	perm      os.FileMode
	ctx       context.Context
}

// CreateAtomic is CreateAtomic with Run's context.
func (o *IO) CreateAtomic(name string, perm os.FileMode) (*AtomicFile, error) {
	return CreateAtomic(o.context(), name, perm)
}

// Err is the cancellation of the file's context: kcopy.CopyN asks it
// between its kernel calls into the file.
func (a *AtomicFile) Err() error { return a.ctx.Err() }

// Write is the file's, and a write to a FIFO or a terminal that the
// cancellation ended fails with the context's error (openInPlace).
func (a *AtomicFile) Write(p []byte) (int, error) {
	n, err := a.File.Write(p)
	return n, cancelled(a.ctx, err)
}

// CreateAtomic creates a temporary file next to name. Call Commit to rename
// it into place, and Abort (safe after Commit) on every other path. On
// Linux the file has no name while it is written (O_TMPFILE in name's
// directory), so that whatever ends the process leaves nothing; Commit
// links it under a temporary name and renames that into place. Where the
// file system cannot make one, it is a named temporary file ".NAME.tmp-*".
//
// A name that exists and is not a regular file, once symlinks are followed
// (-o /dev/null, -o /dev/stdout, a FIFO), is opened and written in place:
// renaming over it would replace the device with a regular file, which as
// root breaks /dev/null for the whole machine. So is a name that reaches
// an open descriptor through /proc (-o /dev/stdout, /dev/fd/1 or
// /proc/self/fd/1 with stdout redirected to a file): renaming over it
// would replace the symlink /dev/stdout (as root: for the whole machine)
// and leave the file stdout goes to empty; a regular file is truncated
// first. What was written in place before a failure cannot be taken back.
// A FIFO or a terminal written in place is waited for as ctx allows
// (openInPlace): its cancellation ends a tool whose reader never comes
// or stops reading.
func CreateAtomic(ctx context.Context, name string, perm os.FileMode) (*AtomicFile, error) {
	for tries := 1; ; tries++ {
		fi, err := os.Stat(name)
		if err != nil || fi.Mode().IsRegular() && !viaProc(name) {
			break
		}
		f, err := openInPlace(ctx, name, fi)
		if errors.Is(err, errReplaced) && tries < 5 {
			// A FIFO replaced while its reader was waited for: what
			// is there now is judged afresh (a name replaced again
			// and again fails).
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("creating %q: %w", name, PathCause(err))
		}
		return &AtomicFile{File: f, final: name, inPlace: true, ctx: ctx}, nil
	}
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	a := &AtomicFile{final: name, dir: dir, base: base, perm: perm, ctx: ctx}
	var err error
	// Nameless, it goes by the output's name in messages ("write out.tar:
	// file too large"), not by a temporary name the user never sees.
	if f, ok := namelessFile(dir, name); ok {
		a.File, a.nameless = f, true
	} else if a.File, err = os.CreateTemp(dir, "."+base+".tmp-*"); err != nil {
		return nil, fmt.Errorf("creating %q: %w", name, PathCause(err))
	}
	if err := a.File.Chmod(perm); err != nil {
		a.Abort()
		return nil, fmt.Errorf("creating %q: %w", name, PathCause(err))
	}
	return a, nil
}

// viaProc reports whether name, or a symlink it leads through, is in a
// directory of /proc (such as /proc/self/fd, which /dev/fd is), or
// off Linux /dev/fd itself (descriptorDir): a descriptor's magic link, not
// a name to replace.
func viaProc(name string) bool {
	for hops := 0; hops < 40; hops++ {
		if dir, err := filepath.EvalSymlinks(filepath.Dir(name)); err == nil && descriptorDir(dir) {
			return true
		}
		target, err := os.Readlink(name)
		if err != nil {
			return false // not a symlink (or gone): the end of the chain
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(name), target)
		}
		name = target
	}
	return false
}

// Commit closes the file and renames it into place (closes it, for a file
// written in place).
//
// It does not fsync: the rename is what keeps a failed or concurrent run
// from seeing a partial file, and forcing the bytes to disk cost up to
// 1.8 s per GB written on the machine we measure on; skopeo, docker save and
// GNU tar do not sync either. A caller that needs the file to survive a
// power cut can sync(1) it.
func (a *AtomicFile) Commit() error {
	if a.inPlace {
		a.done = true
		if err := a.File.Close(); err != nil {
			return fmt.Errorf("writing %q: %w", a.final, PathCause(err))
		}
		return nil
	}
	tmp := a.File.Name()
	if a.nameless {
		var err error
		if tmp, err = a.name(); err != nil {
			a.Abort()
			return fmt.Errorf("writing %q: %w", a.final, PathCause(err))
		}
	}
	if err := a.File.Close(); err != nil {
		a.done = true
		os.Remove(tmp)
		return fmt.Errorf("writing %q: %w", a.final, PathCause(err))
	}
	if err := os.Rename(tmp, a.final); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %q: %w", a.final, PathCause(err))
	}
	a.done = true
	return nil
}

// linkName is linkTemp; tests make it fail.
var linkName = linkTemp

// name gives the nameless file a temporary name next to the final one:
// a link to it (linkTemp), or, where the file cannot be linked (no /proc
// and no CAP_DAC_READ_SEARCH), a copy, made in the kernel where it can.
func (a *AtomicFile) name() (string, error) {
	if tmp, err := linkName(a.File, a.dir, "."+a.base+".tmp-"); err == nil {
		return tmp, nil
	}
	t, err := os.CreateTemp(a.dir, "."+a.base+".tmp-*")
	if err != nil {
		return "", err
	}
	if err = t.Chmod(a.perm); err == nil {
		if _, err = a.File.Seek(0, io.SeekStart); err == nil {
			_, err = t.ReadFrom(a.File)
		}
	}
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(t.Name())
		return "", err
	}
	return t.Name(), nil
}

// Abort removes the temporary file unless Commit succeeded.
func (a *AtomicFile) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.File.Close()
	if !a.inPlace && !a.nameless {
		os.Remove(a.File.Name())
	}
}

// PathCause drops the path an *fs.PathError or *os.LinkError names, for a
// message that names the file in its own words (here: the final file, not
// the temporary one written first).
func PathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// OwnDir checks that fi, a directory whose contents a tool trusts without
// reading what they describe (a layer cache, a directory of layer tars),
// is the user's own and writable by nobody else: whoever can write it
// decides what (say, "the bytes of the layers copied from it"), which the
// error says. The error is the cause, for the caller to name the directory.
func OwnDir(fi fs.FileInfo, what string) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil // not a POSIX file system: nothing to check
	}
	if euid := os.Geteuid(); int(st.Uid) != euid {
		return fmt.Errorf("owned by uid %d, not by this user (uid %d): whoever owns it decides %s: %w", st.Uid, euid, what, errdefs.ErrInvalidInput)
	}
	if mode := fi.Mode().Perm(); mode&0o022 != 0 {
		return fmt.Errorf("writable by group or others (mode %04o): whoever can write it decides %s: %w", mode, what, errdefs.ErrInvalidInput)
	}
	return nil
}

// UnlinkedTemp creates a file in $TMPDIR that has no name there: it holds
// disk only while it is open, so whatever ends the process (SIGKILL from
// the OOM killer or a workflow stopping a stuck step included) leaves
// nothing behind. On Linux the file is made nameless (O_TMPFILE), so not
// even an instant exists in which a kill leaves it; where the file system
// cannot, it is created under a name begun by prefix and unlinked at
// once. The tools spool through it what they must read twice or measure
// before writing.
func UnlinkedTemp(prefix string) (*os.File, error) {
	if f, ok := namelessTemp(os.TempDir(), prefix); ok {
		return f, nil
	}
	f, err := os.CreateTemp("", prefix+"-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	return f, nil
}

// inProc says whether dir, a path without symlinks, is in /proc.
func inProc(dir string) bool { return dir == "/proc" || strings.HasPrefix(dir, "/proc/") }
