package testkit

import (
	"bytes"
	"strings"
	"testing"
)

// tarOf builds a tar from mktar spec lines.
func tarOf(t *testing.T, lines ...string) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	if err := MakeTar(strings.NewReader(strings.Join(lines, "\n")+"\n"), &buf, TarOptions{}); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// The flatten tests trust DiffRootfs (tardiff -docker-export) to tell
// tar-merge's rootfs from docker export's: each claim it checks must be
// able to fail, and what it ignores must be only what its doc says.
func TestDiffRootfs(t *testing.T) {
	base := []string{
		"d 0755 0:0 bin/",
		"f 0755 0:0 bin/tool \"the tool\"",
		"h 0755 0:0 bin/alias bin/tool",
		"l 0777 0:0 bin/sh tool",
		"c 0666 0:0 null 1:3",
		"d 0700 1000:100 home/",
	}
	with := func(i int, line string) []string {
		out := append([]string(nil), base...)
		if i < 0 {
			return append(out, line)
		}
		if line == "" {
			return append(out[:i], out[i+1:]...)
		}
		out[i] = line
		return out
	}
	for _, tc := range []struct {
		name   string
		b      []string
		absent []string
		want   string // a difference line must contain this; "" for none
	}{
		{"Same", base, nil, ""},
		{"MtimeAndNamesIgnored", with(5, "d 0700 1000:100 home/ mtime=99 uname=alice gname=users"), nil, ""},
		{"DotSlashNamesAreTheSamePaths", []string{
			"d 0755 0:0 ./bin/", "f 0755 0:0 ./bin/tool \"the tool\"", "h 0755 0:0 ./bin/alias ./bin/tool",
			"l 0777 0:0 ./bin/sh tool", "c 0666 0:0 ./null 1:3", "d 0700 1000:100 ./home/"}, nil, ""},
		// Which path of a hardlink group holds the content is the tar's
		// choice, not a difference.
		{"HardlinkStoredUnderTheOtherName", []string{
			"d 0755 0:0 bin/", "f 0755 0:0 bin/alias \"the tool\"", "h 0755 0:0 bin/tool bin/alias",
			"l 0777 0:0 bin/sh tool", "c 0666 0:0 null 1:3", "d 0700 1000:100 home/"}, nil, ""},
		{"ContentDiffers", with(1, "f 0755 0:0 bin/tool \"another tool\""), nil, "differs: bin/tool"},
		{"ModeDiffers", with(5, "d 0750 1000:100 home/"), nil, "differs: home"},
		{"SetuidDiffers", with(1, "f 4755 0:0 bin/tool \"the tool\""), nil, "differs: bin/tool"},
		{"OwnerDiffers", with(5, "d 0700 1000:1000 home/"), nil, "differs: home"},
		{"TypeDiffers", with(3, "f 0777 0:0 bin/sh \"tool\""), nil, "differs: bin/sh"},
		{"LinkTargetDiffers", with(3, "l 0777 0:0 bin/sh /bin/tool"), nil, "differs: bin/sh"},
		{"DeviceDiffers", with(4, "c 0666 0:0 null 1:5"), nil, "differs: null"},
		{"HardlinkBroken", with(2, "f 0755 0:0 bin/alias \"the tool\""), nil, "differs: bin/alias"},
		{"MissingFromSecond", with(5, ""), nil, "only in first: home"},
		{"ExtraInSecond", with(-1, "f 0644 0:0 .dockerenv \"\""), nil, "only in second: .dockerenv"},
		{"ExtraInSecondAllowed", with(-1, "f 0644 0:0 .dockerenv \"\""), DockerCreateAdds, ""},
		// Docker adds its paths only where the image has none: one the
		// image has must still be equal.
		{"AllowedPathStillCompared", with(-1, "f 0644 0:0 .dockerenv \"\""), []string{"home"}, "only in second: .dockerenv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			diffs, err := DiffRootfs(tarOf(t, base...), tarOf(t, tc.b...), tc.absent)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(diffs, "\n")
			switch {
			case tc.want == "" && len(diffs) > 0:
				t.Fatalf("differences where there are none:\n%s", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Fatalf("differences %q do not say %q", got, tc.want)
			}
		})
	}
}

// A path Docker adds that the image also has is compared like any other.
func TestDiffRootfsComparesDockerPathsTheImageHas(t *testing.T) {
	a := tarOf(t, "d 0755 0:0 etc/", "f 0644 0:0 etc/hosts \"ours\"")
	b := tarOf(t, "d 0755 0:0 etc/", "f 0644 0:0 etc/hosts \"docker's\"")
	diffs, err := DiffRootfs(a, b, DockerCreateAdds)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) != 1 || !strings.Contains(diffs[0], "differs: etc/hosts") {
		t.Fatalf("differences %q, want etc/hosts's content", diffs)
	}
}
