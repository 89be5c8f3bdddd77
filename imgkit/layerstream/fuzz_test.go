package layerstream

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"reflect"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/testkit"
)

// streamRead is what a Reader makes of a whole stream.
type streamRead struct {
	layers  [][]byte // nil for a reference
	refs    []*Ref
	trailer *Trailer
	config  []byte
}

// readStream reads a stream to its end.
func readStream(data []byte, verify bool) (*streamRead, error) {
	r := NewReader(bytes.NewReader(data), Options{Verify: verify})
	s := &streamRead{}
	for {
		l, err := r.Next()
		if err == io.EOF {
			s.trailer, s.config = r.Trailer(), r.Config()
			return s, nil
		}
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(l)
		if err != nil {
			return nil, err
		}
		if l.Ref != nil {
			b = nil
		}
		s.layers = append(s.layers, b)
		s.refs = append(s.refs, l.Ref)
	}
}

// write writes s as a new stream, keeping each layer's paths and comment.
func (s *streamRead) write(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for i, b := range s.layers {
		info := LayerInfo{Paths: s.trailer.Layers[i].Paths, Comment: s.trailer.Layers[i].Comment}
		var err error
		if ref := s.refs[i]; ref != nil {
			_, err = w.WriteRef(*ref, info)
		} else {
			_, err = w.WriteLayer(int64(len(b)), info, bytes.NewReader(b))
		}
		if err != nil {
			t.Fatalf("layer %d of an accepted stream cannot be written again: %v", i, err)
		}
	}
	if s.config != nil {
		if err := w.Config(s.config); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fixtureStreams are layer streams of the fixtures' files: per script,
// its *.tar files as layers (the tests' layers need not be tars) and its
// config.json, with store paths and a comment; one holds a reference.
func fixtureStreams(f *testing.F) [][]byte {
	byScript := map[string][]testkit.Fixture{}
	var scripts []string
	for _, fx := range testkit.FixturesNamed(f, ".tar", "config.json") {
		if byScript[fx.Script] == nil {
			scripts = append(scripts, fx.Script)
		}
		byScript[fx.Script] = append(byScript[fx.Script], fx)
	}
	var out [][]byte
	for i, s := range scripts {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		var config []byte
		for j, fx := range byScript[s] {
			if strings.HasSuffix(fx.Name, ".json") {
				config = fx.Data
				continue
			}
			info := LayerInfo{Paths: []string{"/nix/store/" + fx.Name}}
			if j == 0 {
				info = LayerInfo{Comment: fx.Name}
			}
			if i == 0 && j == 0 {
				w.WriteRef(testRef, LayerInfo{})
			}
			w.WriteLayer(int64(len(fx.Data)), info, bytes.NewReader(fx.Data))
		}
		if config != nil {
			w.Config(config)
		}
		if err := w.Close(); err != nil {
			f.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// FuzzReader: a stream the Reader accepts has a trailer entry per layer
// member, each member as long as its entry says (and, with Verify, hashing
// to its diff_id); written again by a Writer, with the same layers, config,
// paths and comments, it reads back the same, and writing that gives the
// same bytes. Anything refused is one line wrapping ErrInvalidInput or
// ErrDigestMismatch.
func FuzzReader(f *testing.F) {
	for _, s := range fixtureStreams(f) {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, verify bool) {
		s, err := readStream(data, verify)
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput, errdefs.ErrDigestMismatch)
			return
		}
		if len(s.trailer.Layers) != len(s.layers) {
			t.Fatalf("%d layers, %d trailer entries", len(s.layers), len(s.trailer.Layers))
		}
		for i, l := range s.trailer.Layers {
			if ref := s.refs[i]; ref != nil {
				if l.DiffID != ref.DiffID || l.Size != ref.Size {
					t.Fatalf("layer %d: the reference %+v and its entry %+v differ", i, ref, l)
				}
				continue
			}
			if l.Size != int64(len(s.layers[i])) {
				t.Fatalf("layer %d: %d bytes, its entry says %d", i, len(s.layers[i]), l.Size)
			}
			if sum := sha256.Sum256(s.layers[i]); verify && l.DiffID != "sha256:"+hex.EncodeToString(sum[:]) {
				t.Fatalf("layer %d verified, but its bytes do not hash to %s", i, l.DiffID)
			}
		}
		out := s.write(t)
		back, err := readStream(out, true)
		if err != nil {
			t.Fatalf("the stream written again does not read: %v", err)
		}
		if !reflect.DeepEqual(back.layers, s.layers) || !reflect.DeepEqual(back.refs, s.refs) || !bytes.Equal(back.config, s.config) || (back.config == nil) != (s.config == nil) {
			t.Fatal("the stream written again holds other layers or another config")
		}
		for i, l := range back.trailer.Layers {
			was := s.trailer.Layers[i]
			if !reflect.DeepEqual(l.Paths, was.Paths) || l.Comment != was.Comment || verify && l.DiffID != was.DiffID {
				t.Fatalf("layer %d: %+v written again as %+v", i, was, l)
			}
		}
		if again := back.write(t); !bytes.Equal(again, out) {
			t.Fatal("writing the stream twice gives other bytes")
		}
	})
}
