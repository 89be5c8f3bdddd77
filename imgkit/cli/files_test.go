package cli

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
)

// TestCreateAtomic: a regular output appears only on Commit, by rename,
// and nothing is left on Abort; an output that exists and is not a regular
// file (a device, a FIFO, a symlink to one) is written in place and stays
// what it was, since renaming over it would turn /dev/null into a file;
// so with the files made as off Linux (named temporaries, a plain open).
func TestCreateAtomic(t *testing.T) { eachWay(t, testCreateAtomic) }

func testCreateAtomic(t *testing.T) {
	fifo := func(t *testing.T, dir string) (string, <-chan string) {
		p := filepath.Join(dir, "fifo")
		if err := unix.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		go func() {
			f, err := os.Open(p)
			if err != nil {
				got <- err.Error()
				return
			}
			b, _ := io.ReadAll(f)
			f.Close()
			got <- string(b)
		}()
		return p, got
	}
	for _, c := range []struct {
		name string
		// setup returns the output name and, for a FIFO, what its
		// reader receives.
		setup  func(t *testing.T, dir string) (string, <-chan string)
		abort  bool
		want   os.FileMode // type bits of the output afterwards; 1<<31 for none
		wantIn string      // content read back (regular) or received (FIFO)
	}{
		{"NewFile", func(t *testing.T, dir string) (string, <-chan string) { return filepath.Join(dir, "out"), nil }, false, 0, "data"},
		{"ReplacesRegularFile", func(t *testing.T, dir string) (string, <-chan string) {
			p := filepath.Join(dir, "out")
			os.WriteFile(p, []byte("old contents"), 0o600)
			return p, nil
		}, false, 0, "data"},
		{"AbortLeavesNothing", func(t *testing.T, dir string) (string, <-chan string) { return filepath.Join(dir, "out"), nil }, true, 1 << 31, ""},
		{"AbortKeepsOldFile", func(t *testing.T, dir string) (string, <-chan string) {
			p := filepath.Join(dir, "out")
			os.WriteFile(p, []byte("old"), 0o644)
			return p, nil
		}, true, 0, "old"},
		{"FIFOWrittenInPlace", fifo, false, os.ModeNamedPipe, "data"},
		{"SymlinkToFIFOStaysSymlink", func(t *testing.T, dir string) (string, <-chan string) {
			p, got := fifo(t, dir)
			link := filepath.Join(dir, "link")
			if err := os.Symlink(p, link); err != nil {
				t.Fatal(err)
			}
			return link, got
		}, false, os.ModeSymlink, "data"},
		{"CharDeviceStaysDevice", func(t *testing.T, dir string) (string, <-chan string) {
			p := filepath.Join(dir, "null")
			if err := mknod(unix.Mknod, p, unix.S_IFCHR|0o666, unix.Mkdev(1, 3)); err != nil {
				t.Skipf("cannot make a device node here (needs root): %v", err)
			}
			return p, nil
		}, false, os.ModeDevice | os.ModeCharDevice, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			name, received := c.setup(t, dir)
			a, err := CreateAtomic(context.Background(), name, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Write([]byte("data")); err != nil {
				t.Fatal(err)
			}
			if c.abort {
				a.Abort()
			} else if err := a.Commit(); err != nil {
				t.Fatal(err)
			}
			a.Abort() // safe after Commit
			fi, err := os.Lstat(name)
			switch {
			case c.want == 1<<31:
				if err == nil {
					t.Fatalf("%s exists after Abort", name)
				}
			case err != nil:
				t.Fatal(err)
			case fi.Mode().Type() != c.want:
				t.Fatalf("%s is %v afterwards, want type %v", name, fi.Mode(), c.want)
			}
			after, _ := os.ReadDir(dir)
			for _, e := range after {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Errorf("a temporary file is left: %s", e.Name())
				}
			}
			switch {
			case received != nil:
				if got := <-received; got != c.wantIn {
					t.Errorf("the FIFO's reader got %q, want %q", got, c.wantIn)
				}
			case c.want == 0:
				if b, _ := os.ReadFile(name); string(b) != c.wantIn {
					t.Errorf("%s holds %q, want %q", name, b, c.wantIn)
				}
				if !c.abort && fi.Mode().Perm() != 0o644 {
					t.Errorf("%s has mode %v, want 0644", name, fi.Mode().Perm())
				}
			}
		})
	}
}

// TestCreateAtomicDirectory: a directory as the output is refused at once,
// before any work, not when the finished file is renamed.
func TestCreateAtomicDirectory(t *testing.T) { eachWay(t, testCreateAtomicDirectory) }

func testCreateAtomicDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := CreateAtomic(context.Background(), dir, 0o644)
	if !errors.Is(err, syscall.EISDIR) {
		t.Fatalf("err = %v, want EISDIR", err)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("left %v", left)
	}
}

// TestOpenStdinKeepsStat: stdin that is a regular file opens as something
// with its Stat, so that readers size one buffer from it (format.ReadGraph
// grew a buffer to a 600 MB graph by doubling, holding 1.5 GB), and
// closing it leaves stdin open.
func TestOpenStdinKeepsStat(t *testing.T) {
	name := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(name, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o := &IO{Stdin: f}
	r, err := o.Open("-")
	if err != nil {
		t.Fatal(err)
	}
	st, ok := r.(interface{ Stat() (fs.FileInfo, error) })
	if !ok {
		t.Fatalf("Open(\"-\") of a file is a %T, without Stat", r)
	}
	if fi, err := st.Stat(); err != nil || fi.Size() != 5 {
		t.Fatalf("Stat: %v, %v; want size 5", fi, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat(); err != nil {
		t.Fatalf("stdin after Close: %v", err)
	}
}

// errAtEOF is a reader that fails where a verifying reader would: at the
// end of its bytes, not before; closed records that ReadToEnd closed it.
type errAtEOF struct {
	r      io.Reader
	err    error
	closed bool
}

func (e *errAtEOF) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

func (e *errAtEOF) Close() error { e.closed = true; return nil }

// TestReadToEnd: the reader is read to its end, so an error it gives only
// at EOF (a digest mismatch) is returned, and closed; an open error and a
// cancelled context stop it.
func TestReadToEnd(t *testing.T) {
	mismatch := errors.New("digest mismatch")
	r := &errAtEOF{r: strings.NewReader(strings.Repeat("x", 100000)), err: mismatch}
	if err := ReadToEnd(context.Background(), func() (io.ReadCloser, error) { return r, nil }); !errors.Is(err, mismatch) {
		t.Errorf("error at EOF: got %v, want %v", err, mismatch)
	}
	if !r.closed {
		t.Error("reader not closed")
	}
	ok := &errAtEOF{r: strings.NewReader("abc"), err: io.EOF}
	if err := ReadToEnd(context.Background(), func() (io.ReadCloser, error) { return ok, nil }); err != nil {
		t.Errorf("clean EOF: %v", err)
	}
	if err := ReadToEnd(context.Background(), func() (io.ReadCloser, error) { return nil, fs.ErrNotExist }); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open error: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &errAtEOF{r: strings.NewReader("abc"), err: mismatch}
	if err := ReadToEnd(ctx, func() (io.ReadCloser, error) { return c, nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want %v", err, context.Canceled)
	}
}

// TestCreateAtomicThroughProcFD: -o /dev/stdout (a symlink to
// /proc/self/fd/1) or -o /dev/fd/1 with stdout redirected to a regular
// file names an open descriptor, not a file to replace: it is written in
// place (truncated), the symlink staying one. Renaming over it replaced
// the symlink with a regular file (as root, /dev/stdout for the whole
// machine) and left the file stdout goes to as it was.
func TestCreateAtomicThroughProcFD(t *testing.T) {
	for _, shape := range []string{"Stdout", "DevFd"} {
		t.Run(shape, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "redirected")
			f, err := os.OpenFile(target, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			f.WriteString("old contents, longer than the new")
			fd := strconv.Itoa(int(f.Fd()))
			var name, link string
			switch shape {
			case "Stdout": // dev/stdout -> /proc/self/fd/N
				link = filepath.Join(dir, "stdout")
				name = link
				err = os.Symlink("/proc/self/fd/"+fd, link)
			case "DevFd": // dev/fd -> /proc/self/fd, name dev/fd/N
				link = filepath.Join(dir, "fd")
				name = filepath.Join(link, fd)
				err = os.Symlink("/proc/self/fd", link)
			}
			if err != nil {
				t.Fatal(err)
			}
			a, err := CreateAtomic(context.Background(), name, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Abort()
			if _, err := a.Write([]byte("data")); err != nil {
				t.Fatal(err)
			}
			if err := a.Commit(); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Lstat(link); err != nil || fi.Mode().Type() != os.ModeSymlink {
				t.Errorf("%s is %v afterwards (%v), want the symlink it was", link, fi.Mode(), err)
			}
			if b, _ := os.ReadFile(target); string(b) != "data" {
				t.Errorf("the file the descriptor is open on holds %q, want %q", b, "data")
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Errorf("a temporary file is left: %s", e.Name())
				}
			}
		})
	}
}

// TestCreateAtomicHasNoNameUntilCommit: while an output is written, its
// directory holds no name for it, so a tool killed then (SIGKILL from the
// OOM killer of a memory-limited CI job, a timeout) leaves nothing, where
// a named temporary file ".out.tmp-*" stayed for good; Commit gives the
// file its final name, with its mode and bytes, and nothing else.
func TestCreateAtomicHasNoNameUntilCommit(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "out")
	a, err := CreateAtomic(context.Background(), name, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Abort()
	if _, err := a.Write([]byte("layers")); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Fatalf("while the output is written, its directory holds %q: a kill now would leave it", left[0].Name())
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 1 || left[0].Name() != "out" {
		t.Fatalf("after Commit the directory holds %v, want out alone", left)
	}
	fi, err := os.Stat(name)
	if b, _ := os.ReadFile(name); err != nil || string(b) != "layers" || fi.Mode().Perm() != 0o640 {
		t.Fatalf("out holds %q with mode %v (%v), want \"layers\" with 0640", b, fi.Mode().Perm(), err)
	}
}

// TestCreateAtomicCopiesWhereItCannotLink: where the nameless output
// cannot be linked (no /proc, no CAP_DAC_READ_SEARCH), Commit copies it
// under its final name instead, with its mode, leaving nothing else.
func TestCreateAtomicCopiesWhereItCannotLink(t *testing.T) {
	was := linkName
	defer func() { linkName = was }()
	linkName = func(*os.File, string, string) (string, error) { return "", unix.ENOENT }
	dir := t.TempDir()
	name := filepath.Join(dir, "out")
	a, err := CreateAtomic(context.Background(), name, 0o604)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Abort()
	if _, err := a.Write([]byte("copied")); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(dir)
	fi, err := os.Stat(name)
	if b, _ := os.ReadFile(name); err != nil || len(left) != 1 || string(b) != "copied" || fi.Mode().Perm() != 0o604 {
		t.Fatalf("the directory holds %v, out %q with mode %v (%v), want out alone, \"copied\", 0604", left, b, fi.Mode().Perm(), err)
	}
}

// TestUnlinkedTempHasNoName: the spool file never appears in $TMPDIR, not
// even between its creation and an unlink (a kill there left a named
// spool for good: TestKilledPullLeavesNoSpool caught that window in CI),
// and it holds what is written to it. A watcher lists $TMPDIR without
// pause while spools are made.
func TestUnlinkedTempHasNoName(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	stop := make(chan struct{})
	seen := make(chan string, 1)
	go func() {
		defer close(seen)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if left, _ := os.ReadDir(dir); len(left) > 0 {
				seen <- left[0].Name()
				return
			}
		}
	}()
	for i := 0; i < 2000; i++ {
		f, err := UnlinkedTemp("spool")
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
			if err != nil || !strings.HasPrefix(target, dir+"/") || !strings.HasSuffix(target, "(deleted)") {
				t.Fatalf("the spool's descriptor names %q (%v), not a file of $TMPDIR without a name", target, err)
			}
			if _, err := f.WriteString("spooled"); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 7)
			if _, err := f.ReadAt(got, 0); err != nil || string(got) != "spooled" {
				t.Fatalf("read back %q, %v", got, err)
			}
		}
		f.Close()
	}
	close(stop)
	if name, ok := <-seen; ok {
		t.Fatalf("with a spool being made, $TMPDIR held %s: a kill then would leave it", name)
	}
}

// TestUnlinkedTempLeavesNothing: a spool holds what is written to it and
// leaves no file in $TMPDIR, made nameless or, as off Linux, named and
// unlinked at once.
func TestUnlinkedTempLeavesNothing(t *testing.T) {
	eachWay(t, func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("TMPDIR", dir)
		f, err := UnlinkedTemp("spool")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if left, _ := os.ReadDir(dir); len(left) > 0 {
			t.Fatalf("$TMPDIR holds %s", left[0].Name())
		}
		if _, err := f.WriteString("spooled"); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 7)
		if _, err := f.ReadAt(got, 0); err != nil || string(got) != "spooled" {
			t.Fatalf("read back %q, %v", got, err)
		}
	})
}

// TestReadAllMax: exactly max bytes are read; one more is ErrTooLarge.
func TestReadAllMax(t *testing.T) {
	data, err := ReadAllMax(strings.NewReader("abcd"), 4)
	if err != nil || string(data) != "abcd" {
		t.Fatalf("4 bytes within 4: %q, %v", data, err)
	}
	if _, err := ReadAllMax(strings.NewReader("abcde"), 4); !errors.Is(err, errdefs.ErrTooLarge) {
		t.Fatalf("5 bytes within 4: %v, want too large", err)
	}
}

// zeros is an endless input (a FIFO, /dev/zero) read without allocating.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// TestReadAllMaxRefusalMemory: refusing an endless input at the bound
// allocates the bound and little more; io.ReadAll of a LimitReader
// allocated twice it, its chunks and then their copy (268 MiB at 128
// MiB). The runtime's count of bytes allocated is exact, not timed.
func TestReadAllMaxRefusalMemory(t *testing.T) {
	const max = 128 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := ReadAllMax(zeros{}, max)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, errdefs.ErrTooLarge) || err.Error() != "more than 128 MiB: "+errdefs.ErrTooLarge.Error() {
		t.Fatalf("%v, want more than 128 MiB", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > max+2<<20 {
		t.Errorf("refusing at %d MiB allocated %d MiB, want at most 2 MiB more", max>>20, got>>20)
	}
}

// mknod calls unix.Mknod, whose device number is an int on Linux and
// macOS and a uint64 on FreeBSD.
func mknod[D int | uint64](mknod func(string, uint32, D) error, p string, mode uint32, dev uint64) error {
	return mknod(p, mode, D(dev))
}
