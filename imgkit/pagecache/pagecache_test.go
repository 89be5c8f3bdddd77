//go:build linux

package pagecache

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// testFile writes size random bytes to a new file and returns them with
// the file open for reading.
func testFile(t *testing.T, size int) ([]byte, int) {
	t.Helper()
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(uint64(size), 7))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return data, fd
}

// countNowait counts the reads the raw RWF_NOWAIT call answered, and with
// refuse set makes every other one refuse, so both paths take turns.
func countNowait(t *testing.T, refuseEvery int) *int {
	t.Helper()
	real := nowait
	t.Cleanup(func() { nowait = real })
	answered, calls := new(int), 0
	nowait = func(fd int, b []byte, off int64) (int, bool) {
		calls++
		if refuseEvery > 0 && calls%refuseEvery == 0 {
			return 0, false
		}
		n, ok := real(fd, b, off)
		if ok {
			*answered++
		}
		return n, ok
	}
	return answered
}

// checkAnswered checks how many reads of fd the raw call answered against
// what the kernel says of the file's filesystem: where it takes RWF_NOWAIT
// (ext4, XFS, Btrfs), some (when the test let the raw call try), and
// where it refuses the flag (tmpfs, which many machines mount on /tmp),
// none: the ordinary call read everything.
func checkAnswered(t *testing.T, fd, answered int, tried bool) {
	t.Helper()
	_, err := unix.Preadv2(fd, [][]byte{make([]byte, 1)}, 0, unix.RWF_NOWAIT)
	switch {
	case errors.Is(err, unix.EOPNOTSUPP):
		if answered != 0 {
			t.Errorf("%d reads went the raw way where the filesystem refuses RWF_NOWAIT", answered)
		}
	case err != nil:
		t.Fatalf("preadv2 RWF_NOWAIT of a file just written: %v", err)
	case tried && answered == 0:
		t.Error("the filesystem takes RWF_NOWAIT, and the raw call answered no read")
	case !tried && answered != 0:
		t.Errorf("%d reads went the raw way with it refused", answered)
	}
}

func TestReadAt(t *testing.T) {
	for _, refuse := range []int{0, 2, 1} {
		data, fd := testFile(t, 3<<20+123)
		answered := countNowait(t, refuse)
		r := rand.New(rand.NewPCG(1, uint64(refuse)))
		for range 200 {
			off := r.IntN(len(data) + 10)
			b := make([]byte, r.IntN(1<<20))
			n, err := ReadAt(fd, b, int64(off))
			if err != nil {
				t.Fatalf("refuse %d: ReadAt(%d, %d): %v", refuse, len(b), off, err)
			}
			want := data[min(off, len(data)):]
			want = want[:min(len(want), len(b))]
			if !bytes.Equal(b[:n], want) {
				t.Fatalf("refuse %d: ReadAt(%d, %d) = %d bytes, not the file's %d there", refuse, len(b), off, n, len(want))
			}
		}
		checkAnswered(t, fd, *answered, refuse != 1)
	}
}

// TestRead reads a file in pieces, the raw and the ordinary call taking
// turns: both read from and move the same file offset.
func TestRead(t *testing.T) {
	for _, refuse := range []int{0, 2, 3} {
		data, fd := testFile(t, 1<<20+77)
		answered := countNowait(t, refuse)
		var got []byte
		b := make([]byte, 4096+13)
		for {
			n, err := Read(fd, b)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			got = append(got, b[:n]...)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("refuse %d: read %d bytes, not the file's %d", refuse, len(got), len(data))
		}
		checkAnswered(t, fd, *answered, true)
	}
}

// TestErrors: what the raw call cannot answer, the ordinary call reports.
func TestErrors(t *testing.T) {
	dir, err := unix.Open(t.TempDir(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dir)
	b := make([]byte, 10)
	if _, err := ReadAt(dir, b, 0); !errors.Is(err, unix.EISDIR) {
		t.Errorf("ReadAt of a directory: %v, want EISDIR", err)
	}
	if _, err := Read(dir, b); !errors.Is(err, unix.EISDIR) {
		t.Errorf("Read of a directory: %v, want EISDIR", err)
	}
	if _, err := ReadAt(-1, b, 0); !errors.Is(err, unix.EBADF) {
		t.Errorf("ReadAt of -1: %v, want EBADF", err)
	}
	_, fd := testFile(t, 100)
	if n, err := ReadAt(fd, b, 100); n != 0 || err != nil {
		t.Errorf("ReadAt at the end: %d, %v; want 0, nil", n, err)
	}
	if n, err := ReadAt(fd, nil, 0); n != 0 || err != nil {
		t.Errorf("ReadAt of nothing: %d, %v; want 0, nil", n, err)
	}
}

// TestNotCached reads a file whose pages were dropped from the cache
// (where the filesystem drops them: not tmpfs): the raw call refuses
// (EAGAIN) rather than wait for the disk, and the ordinary call reads
// them. Whether the kernel refused is its business; the bytes must be
// the file's either way.
func TestNotCached(t *testing.T) {
	data, fd := testFile(t, 2<<20)
	if err := unix.Fsync(fd); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	if got := readAllAt(t, fd, len(data)+1); !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, not the file's %d", len(got), len(data))
	}
}

// readAllAt reads fd with ReadAt from its start to its end, chunk bytes
// at a time.
func readAllAt(t *testing.T, fd, chunk int) []byte {
	t.Helper()
	var got []byte
	b := make([]byte, chunk)
	for {
		n, err := ReadAt(fd, b, int64(len(got)))
		if err != nil {
			t.Fatalf("at %d: %v", len(got), err)
		}
		if n == 0 {
			return got
		}
		got = append(got, b[:n]...)
	}
}

// TestReadAtSourceFile reads this file, in the checkout's filesystem
// (where TMPDIR's is tmpfs, the raw call is tried on another one).
func TestReadAtSourceFile(t *testing.T) {
	want, err := os.ReadFile("pagecache_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open("pagecache_test.go", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	answered := countNowait(t, 0)
	if got := readAllAt(t, fd, 1000); !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, not the file's %d", len(got), len(want))
	}
	checkAnswered(t, fd, *answered, true)
}

// TestMemfd reads a memfd (shmem, tmpfs's kind of file, which needs no
// mount): where the kernel refuses RWF_NOWAIT on it, as 6.18 does, every
// read must come from the ordinary call, and a raw read made without the
// flag would show.
func TestMemfd(t *testing.T) {
	fd, err := unix.MemfdCreate("pagecache-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	data := bytes.Repeat([]byte("0123456789abcdef"), 40000)
	if _, err := unix.Pwrite(fd, data, 0); err != nil {
		t.Fatal(err)
	}
	answered := countNowait(t, 0)
	if got := readAllAt(t, fd, 64<<10); !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, not the memfd's %d", len(got), len(data))
	}
	checkAnswered(t, fd, *answered, true)
}

// TestReadAtPast4GiB: an offset past 32 bits reaches the kernel whole, on
// 32-bit architectures too (386, arm), where the raw call passes it in two
// halves: a sparse file holds "near" at 5 and "far" at 4 GiB + 5, and
// reading at the latter must not read the former. (A halving that lost the
// high word read "near", and a wrapped int read before the file's start.)
func TestReadAtPast4GiB(t *testing.T) {
	const far = 1<<32 + 5
	name := filepath.Join(t.TempDir(), "sparse")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	_, err1 := f.WriteAt([]byte("near"), 5)
	_, err2 := f.WriteAt([]byte("far!"), far)
	if err := errors.Join(err1, err2, f.Close()); err != nil {
		t.Skipf("SKIP: no sparse file of 4 GiB here: %v", err)
	}
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	for _, refuse := range []int{0, 1} {
		answered := countNowait(t, refuse)
		b := make([]byte, 8)
		n, err := ReadAt(fd, b, far)
		if err != nil || string(b[:n]) != "far!" {
			t.Errorf("refuse %d: ReadAt at 4 GiB + 5: %q, %v; want \"far!\"", refuse, b[:n], err)
		}
		checkAnswered(t, fd, *answered, refuse != 1)
	}
	// Read from the file's offset (-1 to the raw call), set past 4 GiB.
	if _, err := unix.Seek(fd, far, 0); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	if n, err := Read(fd, b); err != nil || string(b[:n]) != "far!" {
		t.Errorf("Read at the offset 4 GiB + 5: %q, %v; want \"far!\"", b[:n], err)
	}
}
