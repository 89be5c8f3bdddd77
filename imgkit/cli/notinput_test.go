package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestNotAnInputLinks: an output whose rename would replace the input's
// own directory entry (the same name, by another path, or a name the
// input's symlink leads to) is refused; a hard link to the input, or a
// symlink to it, under another name is another entry, which the rename
// replaces while the input stays: such an output is allowed.
func TestNotAnInputLinks(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("img.tar", []byte("image"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error { return os.Link("img.tar", "hard.tar") },
		func() error { return os.Symlink("img.tar", "link.tar") },
		func() error { return os.Symlink("link.tar", "link2.tar") },
		func() error { return os.Mkdir("sub", 0o755) },
		func() error { return os.Symlink(dir, "sub/up") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		output, input string
		refused       bool
	}{
		{"img.tar", "img.tar", true},
		{"./img.tar", "img.tar", true},
		{"sub/up/img.tar", "img.tar", true}, // through a directory symlink
		{"img.tar", "link.tar", true},       // the input's symlink leads to it
		{"link.tar", "link2.tar", true},     // a symlink the input goes through
		{filepath.Join(dir, "img.tar"), "link2.tar", true},
		{"hard.tar", "img.tar", false}, // another entry of the same file
		{"img.tar", "hard.tar", false},
		{"link.tar", "img.tar", false}, // the rename replaces the link
		{"link2.tar", "img.tar", false},
	} {
		err := NotAnInput("-o", c.output, nil, c.input)
		if (err != nil) != c.refused {
			t.Errorf("-o %s of %s: %v, want refused %v", c.output, c.input, err, c.refused)
		}
	}
}

// TestNotAnInputDotDotThroughLink: ".." after a symlink to a directory is
// the parent of the link's target, as the kernel (and so the rename)
// resolves it, not the name with the last element cut off: the output
// a/img.tar given as sub/../img.tar (sub a link to a/b), or an input
// symlink ../img.tar read through sub, is the input's own entry.
// Cleaned lexically (filepath.Dir, Join), they were another directory's,
// the output was allowed, and its rename replaced the input.
func TestNotAnInputDotDotThroughLink(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, step := range []func() error{
		func() error { return os.MkdirAll("a/b", 0o755) },
		func() error { return os.WriteFile("a/img.tar", []byte("image"), 0o644) },
		func() error { return os.Symlink("a/b", "sub") },
		func() error { return os.Symlink("../img.tar", "a/b/lnk") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ output, input string }{
		{"sub/../img.tar", "a/img.tar"},
		{"a/img.tar", "sub/../img.tar"},
		{"a/img.tar", "sub/lnk"},
		{"sub/../img.tar", "sub/lnk"},
	} {
		if err := NotAnInput("-o", c.output, nil, c.input); err == nil {
			t.Errorf("-o %s of %s: allowed, want refused (it is the input's entry)", c.output, c.input)
		}
	}
}
