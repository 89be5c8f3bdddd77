package rootfs

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

func TestSnapshotRoundTrip(t *testing.T) {
	_, snap := unpackInto(t, imageOf(t, spec("d 0755 0:0 ./", `f 0644 0:0 "./odd\nname\xff" "x"`, "l 0777 0:0 ./l \"target with space\"", "d 01777 0:0 ./tmp")))
	var buf bytes.Buffer
	_, err := snap.WriteTo(&buf)
	must(t, err)
	back, err := ReadSnapshot(&buf)
	must(t, err)
	if !reflect.DeepEqual(snap.recs, back.recs) {
		t.Errorf("records differ after a round trip")
	}
	if got, want := len(back.Children("")), 3; got != want {
		t.Errorf("%d children of the root, want %d", got, want)
	}
}

func TestSnapshotRefusesBadInput(t *testing.T) {
	root := `"" 40000 755 0 0 0 0 4096 1 1 2 0 ""` + "\n"
	for _, tc := range []struct{ name, text, msg string }{
		{"empty", "", "not a snapshot"},
		{"other format", "hello\n", "not a snapshot"},
		{"no root", snapshotMagic + "\n", "no root"},
		{"unquoted path", snapshotMagic + "\n" + root + "etc 40000 755 0 0 0 0 1 1 1 3 0 \"\"\n", "line 3"},
		{"path leaving the root", snapshotMagic + "\n" + root + `"../x" 100000 644 0 0 0 0 1 1 1 3 0 ""` + "\n", "not clean"},
		{"missing fields", snapshotMagic + "\n" + root + `"x" 100000 644` + "\n", "13 fields"},
		{"bad number", snapshotMagic + "\n" + root + `"x" 100000 644 zero 0 0 0 1 1 1 3 0 ""` + "\n", "field 4"},
		{"duplicate", snapshotMagic + "\n" + root + root, "twice"},
		{"entry below a file", snapshotMagic + "\n" + root + `"f" 100000 644 0 0 0 0 1 1 1 3 0 ""` + "\n" + `"f/x" 100000 644 0 0 0 0 1 1 1 4 0 ""` + "\n", "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSnapshot(strings.NewReader(tc.text))
			if !errors.Is(err, errdefs.ErrInvalidInput) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want invalid input containing %q", err, tc.msg)
			}
		})
	}
	if _, err := ReadSnapshotFile(nil, t.TempDir()+"/none"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
}
