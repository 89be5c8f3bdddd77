package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	apart := hashedApart(l)
	if apart && l.cache != nil {
		l.cache.fds = newKeptFDs(l.cache.n)
		if !kept {
			defer func(m int32) { keptMax = m }(keptMax)
			keptMax = 0
		}
	}
	defer l.release()
	if apart {
		if hashed, err = hashLayer(ctx, l, size, hashBufCount); err != nil {
			return "", "", err
		}
	}
	change()
	var d *digest
	if apart {
		d = newDigest()
		d.set(hashed, nil)
	}
	var out bytes.Buffer
	sw := layerstream.NewWriter(&out)
	p := startPipeline(sw, false)
	err = p.beginDigest(size, d)
	if err == nil {
		err = l.emit(ctx, p, size)
	}
	if err == nil {
		err = p.endDigest(layerstream.LayerInfo{}, nil, d)
	}
	if err = p.finish(err); err != nil {
		return hashed, "", err
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	hashed = p.infos[0].DiffID
	tr := tar.NewReader(&out)
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, tr); err != nil {
		t.Fatal(err)
	}
	return hashed, "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// TestReplacedBetweenHashAndWrite: a file replaced between the hashing
// pass and the writer's never gives a layer whose digest disagrees with
// its bytes, however the writer reads the layer (the hashing pass's
// descriptor kept, or opened again when none could be kept, or walked
// again).
func TestReplacedBetweenHashAndWrite(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(file string) error
		// what each mode must give: "" a layer (whose digest agrees
		// with its bytes), else an error saying so; "any" either
		want map[string]string
	}{
		{"RenamedCopy", func(f string) error { return replaceBy(f, bytes.Repeat([]byte("b"), 20000)) },
			map[string]string{"Kept": "", "Reopened": `"/store/aaa-x/b" was replaced while packing (nix-store --optimise?): run again`, "Walked": ""}},
		{"RenamedOtherBytes", func(f string) error { return replaceBy(f, bytes.Repeat([]byte("o"), 20000)) },
			map[string]string{"Kept": "", "Reopened": `"/store/aaa-x/b" was replaced while packing (nix-store --optimise?): run again`, "Walked": ""}},
		{"WrittenSameSize", func(f string) error {
			if err := os.Chmod(f, 0o644); err != nil {
				return err
			}
			return os.WriteFile(f, bytes.Repeat([]byte{'w'}, 20000), 0o644)
		}, map[string]string{"Kept": "any", "Reopened": "any", "Walked": "any"}},
	} {
		for _, mode := range []struct {
			name   string
			budget int
			kept   bool
		}{{"Kept", 0, true}, {"Reopened", 0, false}, {"Walked", 1, false}} {
			t.Run(c.name+"/"+mode.name, func(t *testing.T) {
				root, dir := storeOfThree(t, func(f string) []byte { return bytes.Repeat([]byte(f), 20000) }, 0o444)
				canonicalTimes(t, root)
				l := storeLayer(&storeOptions{storeDir: "/store", root: root}, []string{"/store/aaa-x"})
				l.budget = mode.budget
				hashed, written, err := twoPasses(t, l, mode.kept, func() {
					if err := c.change(filepath.Join(dir, "b")); err != nil {
						t.Fatal(err)
					}
				})
				want := c.want[mode.name]
				switch {
				case err != nil && !errors.Is(err, errdefs.ErrChanged):
					t.Fatalf("err = %v, want ErrChanged", err)
				case err != nil && want == "":
					t.Fatalf("err = %v, want a layer", err)
				case err != nil:
					if want != "any" && !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), `"/store/aaa-x/b"`) {
						t.Errorf("err = %q, want it to say %q", err, want)
					}
				case want != "" && want != "any":
					t.Fatalf("a layer, want an error saying %q", want)
				case hashed != written:
					t.Fatalf("the layer's digest %s disagrees with its bytes' %s", hashed, written)
				}
			})
		}
	}
}

// TestWrittenThenCanonicalisedBetweenHashAndWrite: a store file written
// in place between the hashing pass and the writer's, its modification
// time then set back to Nix's 1 (cp -p or rsync -t over it, as root), moved
// its change time alone, which the writer took for Nix linking the file
// (see nixMtime): the layer's digest was the old bytes', its bytes the new
// ones, exit 0. A write leaves the link count as it was, a link does not:
// it is an error "was written to while packing" wherever the writer reads
// the file, or, when one pass hashes and writes, a layer whose digest
// agrees with its bytes.
func TestWrittenThenCanonicalisedBetweenHashAndWrite(t *testing.T) {
	for _, mode := range []struct {
		name   string
		budget int
		kept   bool
	}{{"Kept", 0, true}, {"Reopened", 0, false}, {"Walked", 1, false}} {
		t.Run(mode.name, func(t *testing.T) {
			root, dir := storeOfThree(t, func(f string) []byte { return bytes.Repeat([]byte(f), 20000) }, 0o444)
			canonicalTimes(t, root)
			l := storeLayer(&storeOptions{storeDir: "/store", root: root}, []string{"/store/aaa-x"})
			l.budget = mode.budget
			hashed, written, err := twoPasses(t, l, mode.kept, func() {
				f := filepath.Join(dir, "b")
				err := os.Chmod(f, 0o644)
				if err == nil {
					err = os.WriteFile(f, bytes.Repeat([]byte{'w'}, 20000), 0o644)
				}
				if err == nil {
					err = os.Chmod(f, 0o444)
				}
				if err == nil {
					err = os.Chtimes(f, nixTime, nixTime)
				}
				if err != nil {
					t.Fatal(err)
				}
			})
			switch {
			case mode.name == "Walked" && err != nil:
				t.Fatalf("one pass hashes and writes: err = %v, want a layer", err)
			case mode.name != "Walked" && err == nil:
				t.Fatalf("a layer (digest %s, bytes' %s), want an error", hashed, written)
			case err != nil && (!errors.Is(err, errdefs.ErrChanged) || !strings.Contains(err.Error(), `"/store/aaa-x/b" was written to while packing`)):
				t.Fatalf("err = %v, want it to say the file was written to", err)
			case err == nil && hashed != written:
				t.Fatalf("the layer's digest %s disagrees with its bytes' %s", hashed, written)
			}
		})
	}
}
