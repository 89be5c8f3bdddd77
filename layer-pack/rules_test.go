package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/layerstream"
)

// rulesStoreLayer is the diff_id each value storeLayerRules has had gives
// rulesStore's layer. An entry is never changed: layer caches written by
// the version that had that value hold its diff_ids, and layer-pack
// --reuse takes them unread.
var rulesStoreLayer = map[string]string{
	"layer-pack/nixpkgs-stream-layered-image.1": "sha256:e19729dd5561d053ebb84c422844365656ca12aa8cd5e60561340c950a9a51ab",
}

// TestStoreLayerRulesArePinned fails when the bytes of a store layer
// change while storeLayerRules does not. The layer cache keys a store
// layer's diff_id on its paths, parameters and storeLayerRules only, so
// a change of the bytes (one that makes the oracle and vector tests pass
// again, say) that keeps the rules lets every cache written before give
// --reuse the old layer's diff_id: the image refers to bytes no fresh build
// makes. Such a change must come with a new storeLayerRules and a new
// entry above. The store has what the byte rules decide: a long name and
// link target (PAX records), non-ASCII names and owner names, a hardlink,
// a symlinked store path, modes with set-id bits, an empty directory.
func TestStoreLayerRulesArePinned(t *testing.T) {
	want, ok := rulesStoreLayer[storeLayerRules]
	if !ok {
		t.Fatalf("storeLayerRules %q has no pinned diff_id: add its entry (and keep the old ones)", storeLayerRules)
	}
	root := t.TempDir()
	paths := rulesStore(t, root)
	so := &storeOptions{storeDir: "/nix/store", root: root, mtime: 1700000000, uid: 1000, gid: 100, uname: "übung", gname: "users"}
	var out bytes.Buffer
	if err := pack(context.Background(), &cli.IO{Stderr: io.Discard}, []layer{storeLayer(so, paths)}, &out); err != nil {
		t.Fatal(err)
	}
	r := layerstream.NewReader(&out, layerstream.Options{Verify: true})
	l, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, l); err != nil {
		t.Fatal(err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("the store layer is %s, pinned %s for storeLayerRules %q: the byte rules changed; give storeLayerRules a new value and pin it here (keeping this entry)", got, want, storeLayerRules)
	}
}

// rulesStore makes TestStoreLayerRulesArePinned's store under root, its
// modes set whatever the umask, and returns its paths in layer order.
func rulesStore(t *testing.T, root string) []string {
	t.Helper()
	const a, b, c = "/nix/store/0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a-tree", "/nix/store/1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b-link", "/nix/store/2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c-file"
	long := strings.Repeat("l", 120)
	for _, d := range []string{"x/y", "x-z", "empty", ".hidden", "B", "ünï", long + "/" + long} {
		rulesMkdir(t, filepath.Join(root, a, d))
	}
	rulesWrite(t, filepath.Join(root, a, "x/y/f"), "x\n", 0o444)
	rulesWrite(t, filepath.Join(root, a, "x-z/f"), "xz\n", 0o644)
	rulesWrite(t, filepath.Join(root, a, ".hidden/.dot"), "h\n", 0o644)
	rulesWrite(t, filepath.Join(root, a, "ünï/fïlé"), "é\n", 0o644)
	rulesWrite(t, filepath.Join(root, a, long, long, "deep-file"), "data", 0o755)
	rulesWrite(t, filepath.Join(root, a, "B/block"), strings.Repeat("0", 4096), 0o644)
	if err := os.Link(filepath.Join(root, a, "x/y/f"), filepath.Join(root, a, "x/hardlink")); err != nil {
		t.Fatal(err)
	}
	for target, name := range map[string]string{strings.Repeat("t", 150): "long-target", "zïel": "nonascii-target"} {
		if err := os.Symlink(target, filepath.Join(root, a, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Base(a), filepath.Join(root, b)); err != nil {
		t.Fatal(err)
	}
	rulesWrite(t, filepath.Join(root, c), "plain\n", 0o444)
	for d, mode := range map[string]os.FileMode{"x/y": 0o555, "B": 0o755 | os.ModeSetuid | os.ModeSetgid, "empty": 0o700} {
		if err := os.Chmod(filepath.Join(root, a, d), mode); err != nil {
			t.Fatal(err)
		}
	}
	return []string{a, b, c}
}

func rulesMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil || filepath.Base(filepath.Dir(d)) == "store" {
			break
		}
	}
}

func rulesWrite(t *testing.T, name, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(name, mode); err != nil {
		t.Fatal(err)
	}
}
