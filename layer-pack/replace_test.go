package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
)

// twoPasses packs l as hashAhead does, one pass after the other: the
// measure, the hashing pass when the layer has one (keeping its
// descriptors when kept), change, then the writer's pass; it returns the
// layer's announced digest (the hashing pass's, or the writer's) and the
// writer's own sha256 of what it wrote.
func twoPasses(t *testing.T, l *treeLayer, kept bool, change func()) (hashed, written string, err error) {
	t.Helper()
	ctx := context.Background()
	size, err := l.measure(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if kept && l.cache != nil {
		l.cache.fds = newKeptFDs(l.cache.n)
	}
	defer l.release()
	apart := hashedApart(l)
	if apart {
		if hashed, err = hashLayer(ctx, l, size, hashBufCount); err != nil {
			return "", "", err
		}
	}
	change()
	p := startPipeline(layerstream.NewWriter(io.Discard), false)
	err = p.begin(size)
	if err == nil {
		err = l.emit(ctx, p, size)
	}
	if err == nil {
		err = p.end(layerstream.LayerInfo{}, nil)
	}
	if err = p.finish(err); err != nil {
		return hashed, "", err
	}
	if !apart {
		hashed = p.infos[0].DiffID
	}
	return hashed, p.infos[0].DiffID, nil
}

// TestReplacedBetweenHashAndWrite: a file replaced between the hashing
// pass and the writer's never gives a layer whose digest disagrees with
// its bytes, however the writer reads the layer (entries cached with the
// hashing pass's descriptors kept, cached without, walked again).
func TestReplacedBetweenHashAndWrite(t *testing.T) {
	canonical := time.Unix(1, 0)
	for _, c := range []struct {
		name   string
		change func(file string) error
	}{
		{"RenamedOtherBytes", func(f string) error {
			if err := os.WriteFile(f+".new", bytes.Repeat([]byte{'o'}, 20000), 0o444); err != nil {
				return err
			}
			if err := os.Chtimes(f+".new", canonical, canonical); err != nil {
				return err
			}
			return os.Rename(f+".new", f)
		}},
		{"WrittenSameSize", func(f string) error {
			if err := os.Chmod(f, 0o644); err != nil {
				return err
			}
			return os.WriteFile(f, bytes.Repeat([]byte{'w'}, 20000), 0o644)
		}},
	} {
		for _, mode := range []struct {
			name   string
			budget int
			kept   bool
		}{{"Kept", 0, true}, {"Cached", 0, false}, {"Walked", 1, false}} {
			t.Run(c.name+"/"+mode.name, func(t *testing.T) {
				root := t.TempDir()
				dir := filepath.Join(root, "store", "aaa-x")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for _, f := range []string{"a", "b", "c"} {
					name := filepath.Join(dir, f)
					if err := os.WriteFile(name, bytes.Repeat([]byte(f), 20000), 0o444); err != nil {
						t.Fatal(err)
					}
					if err := os.Chtimes(name, canonical, canonical); err != nil {
						t.Fatal(err)
					}
				}
				l := storeLayer(&storeOptions{storeDir: "/store", root: root}, []string{"/store/aaa-x"})
				l.budget = mode.budget
				hashed, written, err := twoPasses(t, l, mode.kept, func() {
					if err := c.change(filepath.Join(dir, "b")); err != nil {
						t.Fatal(err)
					}
				})
				switch {
				case err != nil && !errors.Is(err, errdefs.ErrChanged):
					t.Fatalf("err = %v, want ErrChanged", err)
				case err != nil:
					if !strings.Contains(err.Error(), `"/store/aaa-x/b"`) && !strings.Contains(err.Error(), "since the layer was measured") {
						t.Errorf("err = %q does not name the file", err)
					}
				case hashed != written:
					t.Fatalf("the layer's digest %s disagrees with its bytes' %s", hashed, written)
				}
			})
		}
	}
}
