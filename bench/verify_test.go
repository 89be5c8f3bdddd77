package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// member is one entry of a tar built for a test.
type member struct {
	name, body, link string
	typ              byte
}

func makeTar(t *testing.T, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		typ := m.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: m.name, Typeflag: typ, Mode: 0o644, Size: int64(len(m.body)), Linkname: m.link}
		if typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(m.body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// archiveParts are the pieces of a docker-archive that a test can break.
type archiveParts struct {
	layers     [][]byte
	diffIDs    []string
	layerNames []string
	configName string // "" means the config's own digest
	images     int
}

func goodParts(t *testing.T) archiveParts {
	l0 := makeTar(t, member{name: "/nix/", typ: tar.TypeDir}, member{name: "/nix/store/aaa-a/lib/x.so", body: "lib"})
	l1 := makeTar(t, member{name: "/nix/store/bbb-b", body: "script"}, member{name: "/nix/store/ccc-c", typ: tar.TypeSymlink, link: "/nix/store/bbb-b"})
	return archiveParts{
		layers:     [][]byte{l0, l1},
		diffIDs:    []string{digest(l0), digest(l1)},
		layerNames: []string{"0/layer.tar", "1/layer.tar"},
		images:     1,
	}
}

func (p archiveParts) build(t *testing.T) []byte {
	config, _ := json.Marshal(map[string]any{"rootfs": map[string]any{"type": "layers", "diff_ids": p.diffIDs}})
	name := p.configName
	if name == "" {
		name = strings.TrimPrefix(digest(config), "sha256:") + ".json"
	}
	var manifest []map[string]any
	for range p.images {
		manifest = append(manifest, map[string]any{"Config": name, "RepoTags": []string{"x:y"}, "Layers": p.layerNames})
	}
	mj, _ := json.Marshal(manifest)
	var members []member
	for i, l := range p.layers {
		members = append(members, member{name: fmt.Sprintf("%d/layer.tar", i), body: string(l)})
	}
	members = append(members, member{name: name, body: string(config)}, member{name: "manifest.json", body: string(mj)})
	return makeTar(t, members...)
}

func TestReadImageAccepts(t *testing.T) {
	info, err := readImage(bytes.NewReader(goodParts(t).build(t)), "/nix/store")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, l := range info.layers {
		paths = append(paths, l.paths...)
	}
	if got := strings.Join(paths, " "); got != "/nix/store/aaa-a /nix/store/bbb-b /nix/store/ccc-c" {
		t.Errorf("store paths %q", got)
	}
	if info.layers[0].files != 1 || info.layers[0].fileBytes != 3 {
		t.Errorf("layer 0: %d files, %d bytes", info.layers[0].files, info.layers[0].fileBytes)
	}
}

// A tool that writes a wrong or short image must not pass as fast.
func TestReadImageRefuses(t *testing.T) {
	for name, breakIt := range map[string]func(*archiveParts){
		"WrongDiffID":      func(p *archiveParts) { p.diffIDs[1] = p.diffIDs[0] },
		"MissingLayer":     func(p *archiveParts) { p.layerNames[1] = "9/layer.tar" },
		"FewerDiffIDs":     func(p *archiveParts) { p.diffIDs = p.diffIDs[:1] },
		"ConfigNotDigest":  func(p *archiveParts) { p.configName = strings.Repeat("0", 64) + ".json" },
		"TwoImages":        func(p *archiveParts) { p.images = 2 },
		"NoImage":          func(p *archiveParts) { p.images = 0 },
		"TruncatedLayer":   func(p *archiveParts) { p.layers[0] = p.layers[0][:700] },
		"LayerNotTarBytes": func(p *archiveParts) { p.layers[1] = []byte("not a tar") },
	} {
		t.Run(name, func(t *testing.T) {
			p := goodParts(t)
			breakIt(&p)
			if _, err := readImage(bytes.NewReader(p.build(t)), "/nix/store"); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestTreeOfTar(t *testing.T) {
	rootfs := makeTar(t,
		member{name: "nix/store/", typ: tar.TypeDir},
		member{name: "nix/store/aaa-a/f", body: "12345"},
		member{name: "nix/store/aaa-a/h", typ: tar.TypeLink, link: "nix/store/aaa-a/f"},
		member{name: "nix/store/aaa-a/l", typ: tar.TypeSymlink, link: "f"},
		member{name: "etc/passwd", body: "root"},
	)
	got, other, err := treeOfTar(bytes.NewReader(rootfs), "/nix/store")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]node{
		"nix/store":         {typ: 'd'},
		"nix/store/aaa-a/f": {typ: 'f', size: 5},
		"nix/store/aaa-a/h": {typ: 'f', size: 5},
		"nix/store/aaa-a/l": {typ: 'l', link: "f"},
	}
	if err := diffTrees(want, got); err != nil || other != 1 {
		t.Fatalf("%v (other %d)", err, other)
	}
	delete(got, "nix/store/aaa-a/h")
	got["nix/store/aaa-a/x"] = node{typ: 'f'}
	if err := diffTrees(want, got); err == nil || !strings.Contains(err.Error(), "2 differences") {
		t.Fatalf("got %v", err)
	}
	bad := makeTar(t, member{name: "nix/store/a", typ: tar.TypeLink, link: "nix/store/nowhere"})
	if _, _, err := treeOfTar(bytes.NewReader(bad), "/nix/store"); err == nil {
		t.Fatal("a hardlink to nothing was accepted")
	}
}

func TestSameGraph(t *testing.T) {
	want := "[\n{\"path\":\"/s/a\",\"narSize\":1,\"references\":[\"/s/a\"]}\n]\n"
	for name, c := range map[string]struct {
		got string
		ok  bool
	}{
		"Equal":           {want, true},
		"OtherShape":      {`{"/s/a":{"narSize":1,"references":["a"]}}`, true},
		"MissingSelfRef":  {`[{"path":"/s/a","narSize":1,"references":[]}]`, false},
		"WrongNarSize":    {`[{"path":"/s/a","narSize":2,"references":["/s/a"]}]`, false},
		"NotAGraph":       {`nothing`, false},
		"EmptyGraphArray": {`[]`, false},
	} {
		t.Run(name, func(t *testing.T) {
			if err := sameGraph([]byte(c.got), []byte(want)); (err == nil) != c.ok {
				t.Fatalf("got %v", err)
			}
		})
	}
}
