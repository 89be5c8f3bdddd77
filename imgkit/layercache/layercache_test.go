package layercache

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/oci"
)

func digest(c string) string { return "sha256:" + strings.Repeat(c, 64) }

var baseKey = Key{Rules: "r1", StoreDir: "/nix/store", Mtime: 1, Uname: "root", Gname: "root", Paths: []string{"/nix/store/a-x", "/nix/store/b-y"}}

func TestLayerKeyParameters(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := Layer{DiffID: digest("1"), Size: 10240}
	if err := c.PutLayer(baseKey, want); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Layer(baseKey); !ok || got != want {
		t.Fatalf("Layer = %+v %v", got, ok)
	}
	// Every parameter is part of the key: changing one is a miss.
	for name, edit := range map[string]func(k *Key){
		"Rules":     func(k *Key) { k.Rules = "r2" },
		"StoreDir":  func(k *Key) { k.StoreDir = "/gnu/store" },
		"Mtime":     func(k *Key) { k.Mtime = 2 },
		"UID":       func(k *Key) { k.UID = 1000 },
		"GID":       func(k *Key) { k.GID = 100 },
		"Uname":     func(k *Key) { k.Uname = "user" },
		"Gname":     func(k *Key) { k.Gname = "users" },
		"PathOrder": func(k *Key) { k.Paths = []string{"/nix/store/b-y", "/nix/store/a-x"} },
		"OnePath":   func(k *Key) { k.Paths = []string{"/nix/store/a-x"} },
		"NoPaths":   func(k *Key) { k.Paths = nil },
	} {
		t.Run(name, func(t *testing.T) {
			k := baseKey
			k.Paths = append([]string(nil), baseKey.Paths...)
			edit(&k)
			if k.ID() == baseKey.ID() {
				t.Fatal("same ID")
			}
			if got, ok := c.Layer(k); ok {
				t.Fatalf("hit %+v", got)
			}
		})
	}
}

func TestEmptyLayerNilOrEmptyPaths(t *testing.T) {
	c, _ := Open(t.TempDir())
	k := baseKey
	k.Paths = nil
	if err := c.PutLayer(k, Layer{DiffID: digest("2"), Size: 1536}); err != nil {
		t.Fatal(err)
	}
	k.Paths = []string{}
	if _, ok := c.Layer(k); !ok {
		t.Fatal("[] and nil paths are different keys")
	}
}

func TestBadRecordsAreMisses(t *testing.T) {
	for name, content := range map[string]string{
		"Empty":        "",
		"Truncated":    `{"key":{"rules":"r1"`,
		"OtherKey":     `{"key":{"rules":"r1","store_dir":"/nix/store","mtime":1,"uid":0,"gid":0,"uname":"root","gname":"root","paths":["/nix/store/c-z"]},"diff_id":"` + digest("1") + `","size":1}`,
		"BadDigest":    `{"key":` + keyJSON(baseKey) + `,"diff_id":"sha256:12","size":1}`,
		"NegativeSize": `{"key":` + keyJSON(baseKey) + `,"diff_id":"` + digest("1") + `","size":-1}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := Open(t.TempDir())
			p := c.layerPath(baseKey)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			if got, ok := c.Layer(baseKey); ok {
				t.Fatalf("hit %+v", got)
			}
			// Writing again repairs it.
			if err := c.PutLayer(baseKey, Layer{DiffID: digest("1"), Size: 1}); err != nil {
				t.Fatal(err)
			}
			if _, ok := c.Layer(baseKey); !ok {
				t.Fatal("miss after PutLayer")
			}
		})
	}
}

func keyJSON(k Key) string {
	return `{"rules":"` + k.Rules + `","store_dir":"` + k.StoreDir + `","mtime":1,"uid":0,"gid":0,"uname":"root","gname":"root","paths":["` + strings.Join(k.Paths, `","`) + `"]}`
}

func TestValidRecordAsWritten(t *testing.T) {
	// keyJSON writes what PutLayer writes: a record made by hand is found.
	c, _ := Open(t.TempDir())
	p := c.layerPath(baseKey)
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte(`{"key":`+keyJSON(baseKey)+`,"diff_id":"`+digest("1")+`","size":1}`), 0o644)
	if _, ok := c.Layer(baseKey); !ok {
		t.Fatal("miss")
	}
}

func TestBlobs(t *testing.T) {
	c, _ := Open(t.TempDir())
	gz := layerstream.Blob{MediaType: oci.LayerMediaType(compress.Gzip), Digest: digest("3"), Size: 99}
	if err := c.PutBlob(digest("1"), compress.Gzip, gz); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Blob(digest("1"), compress.Gzip); !ok || got != gz {
		t.Fatalf("Blob = %+v %v", got, ok)
	}
	if _, ok := c.Blob(digest("1"), compress.Zstd); ok {
		t.Fatal("a gzip blob answered for zstd")
	}
	if err := c.PutBlob(digest("1"), compress.Zstd, gz); err == nil {
		t.Fatal("a gzip media type recorded for zstd")
	}
	if err := c.PutBlob(digest("1"), compress.None, gz); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Blob(digest("1"), compress.None); ok {
		t.Fatal("a record for an uncompressed layer")
	}
}

func TestSources(t *testing.T) {
	c, _ := Open(t.TempDir())
	if err := c.PutSource("127.0.0.1:5000", digest("3"), "team/base"); err != nil {
		t.Fatal(err)
	}
	if err := c.PutSource("127.0.0.1:5000", digest("3"), "team/app"); err != nil {
		t.Fatal(err)
	}
	if repo, ok := c.Source("127.0.0.1:5000", digest("3")); !ok || repo != "team/app" {
		t.Fatalf("Source = %q %v (the last writer wins)", repo, ok)
	}
	if _, ok := c.Source("other:5000", digest("3")); ok {
		t.Fatal("a source from another registry")
	}
	for _, host := range []string{"", "..", "a/b", `a\b`} {
		if err := c.PutSource(host, digest("3"), "r"); err == nil {
			t.Errorf("host %q accepted", host)
		}
	}
}

// TestConcurrentWriters: processes sharing a cache write the same records
// at once; a reader sees a whole record or none, and no temporary file is
// left behind.
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	want := Layer{DiffID: digest("4"), Size: 2048}
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Open(dir) // each its own handle, as separate processes
			if err != nil {
				errs <- err.Error()
				return
			}
			for range 50 {
				if got, ok := c.Layer(baseKey); ok && got != want {
					errs <- "partial record"
				}
				if i%2 == 0 {
					if err := c.PutLayer(baseKey, want); err != nil {
						errs <- err.Error()
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("left behind: %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestHoldingsRoundTrip(t *testing.T) {
	gz := layerstream.Blob{MediaType: oci.LayerMediaType(compress.Gzip), Digest: digest("5"), Size: 7}
	zs := layerstream.Blob{MediaType: oci.LayerMediaType(compress.Zstd), Digest: digest("6"), Size: 8}
	h := Holdings{digest("2"): {zs, gz}, digest("1"): {gz}}
	var buf strings.Builder
	if err := WriteHoldings(&buf, h); err != nil {
		t.Fatal(err)
	}
	want := `[
{"diff_id":"` + digest("1") + `","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + digest("5") + `","size":7},
{"diff_id":"` + digest("2") + `","mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + digest("5") + `","size":7},
{"diff_id":"` + digest("2") + `","mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"` + digest("6") + `","size":8}
]
`
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
	back, err := ReadHoldings(strings.NewReader(buf.String()))
	if err != nil || len(back) != 2 || len(back[digest("2")]) != 2 {
		t.Fatalf("%v %v", back, err)
	}
	var empty strings.Builder
	WriteHoldings(&empty, nil)
	if empty.String() != "[]\n" {
		t.Fatalf("empty list %q", empty.String())
	}
}

func TestHoldingsRefused(t *testing.T) {
	for name, in := range map[string]string{
		"NotJSON":      `[`,
		"NotArray":     `{}`,
		"BadDiffID":    `[{"diff_id":"sha256:1","mediaType":"m","digest":"` + digest("1") + `","size":1}]`,
		"NoMediaType":  `[{"diff_id":"` + digest("1") + `","digest":"` + digest("1") + `","size":1}]`,
		"UnknownField": `[{"diff_id":"` + digest("1") + `","mediaType":"m","digest":"` + digest("1") + `","size":1,"x":2}]`,
		"NegativeSize": `[{"diff_id":"` + digest("1") + `","mediaType":"m","digest":"` + digest("1") + `","size":-1}]`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ReadHoldings(strings.NewReader(in)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
