package storefs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openFDs counts the process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// deepTree makes depth nested directories "d" below dir, each with a file
// "a" and a file "z" holding its depth, and returns each directory's
// inode, the top's first.
func deepTree(t *testing.T, dir string, depth int) []uint64 {
	t.Helper()
	var inos []uint64
	for i := range depth {
		dir = filepath.Join(dir, "d")
		must(t, os.Mkdir(dir, 0o755))
		for _, f := range []string{"a", "z"} {
			must(t, os.WriteFile(filepath.Join(dir, f), []byte(fmt.Sprint(i)), 0o644))
		}
		var st unix.Stat_t
		must(t, unix.Lstat(dir, &st))
		inos = append(inos, st.Ino)
	}
	return inos
}

func openBase(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// fdIno is the inode of the open fd.
func fdIno(t *testing.T, fd int) uint64 {
	t.Helper()
	var st unix.Stat_t
	must(t, unix.Fstat(fd, &st))
	return st.Ino
}

// TestDirPathBoundedDescriptors: a path far deeper than the window holds
// at most the window's descriptors, down and back up, and every
// directory it gives back up is the one it went down through.
func TestDirPathBoundedDescriptors(t *testing.T) {
	const depth, window = 300, 4
	work := t.TempDir()
	inos := deepTree(t, work, depth)
	base := openBase(t, work)
	before := openFDs(t)
	p := NewDirPath(base, unix.O_RDONLY)
	p.window = window
	defer p.Close()
	most := 0
	for i := range depth {
		must(t, p.Push("d", inos[i]))
		most = max(most, openFDs(t)-before)
	}
	for i := depth - 1; i >= 0; i-- {
		fd, err := p.Fd()
		if err != nil {
			t.Fatalf("level %d: %v", i, err)
		}
		if got := fdIno(t, fd); got != inos[i] {
			t.Fatalf("level %d: inode %d, want %d", i, got, inos[i])
		}
		most = max(most, openFDs(t)-before)
		p.Pop()
	}
	if most > window {
		t.Errorf("held up to %d descriptors, want at most %d", most, window)
	}
	if n := openFDs(t) - before; n != 0 {
		t.Errorf("%d descriptors left open", n)
	}
}

// TestDirPathReopenChecksIdentity: a closed directory the path comes back
// to is opened again by name from the base, and must be the one it
// closed: one replaced by another directory or a symlink is an error
// naming it, never read; one still there is read.
func TestDirPathReopenChecksIdentity(t *testing.T) {
	for _, c := range []struct {
		name string
		swap func(t *testing.T, c string)
		want error
	}{
		{"Unchanged", func(t *testing.T, c string) {}, nil},
		{"OtherDirectory", func(t *testing.T, c string) {
			must(t, os.Rename(c, c+".old"))
			must(t, os.Mkdir(c, 0o755))
		}, ErrReplaced},
		{"Symlink", func(t *testing.T, c string) {
			must(t, os.Rename(c, c+".old"))
			must(t, os.Symlink(c+".old", c))
		}, unix.ELOOP},
	} {
		t.Run(c.name, func(t *testing.T) {
			work := t.TempDir()
			base := filepath.Join(work, "base")
			must(t, os.MkdirAll(filepath.Join(base, "a/b/c/d/e"), 0o755))
			must(t, os.Mkdir(filepath.Join(work, "elsewhere"), 0o755))
			p := NewDirPath(openBase(t, base), SearchOnly)
			p.window = 2
			defer p.Close()
			for _, n := range strings.Split("a/b/c/d/e", "/") {
				must(t, p.Push(n, 0))
			}
			var was unix.Stat_t
			must(t, unix.Stat(filepath.Join(base, "a/b/c"), &was))
			p.Pop() // e; d is open, c closed
			// d moved away: its ".." is no longer c, so c is opened
			// again by name.
			must(t, os.Rename(filepath.Join(base, "a/b/c/d"), filepath.Join(work, "elsewhere/d")))
			c.swap(t, filepath.Join(base, "a/b/c"))
			p.Pop()
			fd, err := p.Fd()
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if fdIno(t, fd) != was.Ino {
					t.Fatal("reopened another directory")
				}
				return
			}
			var pe *os.PathError
			if !errors.Is(err, c.want) || !errors.As(err, &pe) || pe.Path != "a/b/c" {
				t.Fatalf("err = %v, want %v naming a/b/c", err, c.want)
			}
		})
	}
}

// TestOpenerDeepPathBoundedDescriptors: an Opener given the files of a
// tree far deeper than its window, in walk order, opens each and holds at
// most the window's descriptors.
func TestOpenerDeepPathBoundedDescriptors(t *testing.T) {
	const depth, window = 200, 3
	work := t.TempDir()
	deepTree(t, work, depth)
	o := NewOpener(openBase(t, work))
	o.dirs.window = window
	defer o.Close()
	before := openFDs(t)
	var rels []string
	for i := range depth {
		rels = append(rels, strings.Repeat("d/", i+1)+"a")
	}
	for i := depth - 1; i >= 0; i-- {
		rels = append(rels, "./"+strings.Repeat("d/", i+1)+"z")
	}
	most := 0
	for _, rel := range rels {
		fd, err := o.Open(rel, unix.O_RDONLY)
		if err != nil {
			t.Fatal(err)
		}
		most = max(most, openFDs(t)-before-1)
		b := make([]byte, 8)
		n, _ := unix.Read(fd, b)
		unix.Close(fd)
		if want := fmt.Sprint(strings.Count(rel, "d/") - 1); string(b[:max(n, 0)]) != want {
			t.Fatalf("%s: read %q, want %q", rel, b[:max(n, 0)], want)
		}
	}
	if most > window {
		t.Errorf("held up to %d descriptors, want at most %d", most, window)
	}
}
