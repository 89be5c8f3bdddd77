package main

import (
	"errors"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
)

// TestConfIDErrorsAreOneLine: a uid or gid that is no id is shown on one
// line, and cut when long (FuzzReadConf found "uid": [1,<newline>2]
// splitting the error line in two).
func TestConfIDErrorsAreOneLine(t *testing.T) {
	for _, tc := range []struct{ name, conf, msg string }{
		{"ArrayOverLines", "{\"store_layers\":[],\"uid\":[1,\n 2]}", "uid is [1,2], want a number or a string of digits"},
		{"ObjectOverLines", "{\"store_layers\":[],\"gid\":{\"a\":\n1}}", `gid is {"a":1}, want a number or a string of digits`},
		{"NotAnInteger", `{"store_layers":[],"uid":"root"}`, `uid "root" is not an id from 0 to 4294967294`},
		{"LongArray", `{"store_layers":[],"uid":[` + strings.Repeat("1,", 5000) + `1]}`, `uid is "[1,1,1,`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readConf(strings.NewReader(tc.conf))
			if !errors.Is(err, errdefs.ErrInvalidInput) || strings.ContainsAny(err.Error(), "\n\r") || len(err.Error()) > 400 || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("%.400q, want one line saying %q", err, tc.msg)
			}
		})
	}
}

// TestReadConfKeysAsPython: nixpkgs' script reads conf.json with Python's
// json.load and takes conf["store_layers"], conf["uid"], … by their exact
// names, as manifest-gen (pyjson) does. A key that differs only in case is
// another key, and trailing data is no configuration; Go's encoding/json
// took "STORE_LAYERS" for store_layers (the last one written won, so one
// file gave layer-pack other layers than nixpkgs') and ignored what
// followed the object.
func TestReadConfKeysAsPython(t *testing.T) {
	c, err := readConf(strings.NewReader(`{"store_dir":"/nix/store","store_layers":[["/nix/store/a"]],"uid":"7",` +
		`"STORE_LAYERS":[],"Store_Dir":"/elsewhere","UID":"0","Uname":"x","ſtore_layers":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.StoreLayers) != 1 || c.StoreDir != "/nix/store" || c.Uid == nil || *c.Uid != 7 || c.Uname != nil {
		t.Fatalf("read %+v, want store_layers [[/nix/store/a]], store_dir /nix/store, uid 7, no uname", c)
	}
	for _, conf := range []string{
		`{"store_layers":[]} {"store_layers":[["/nix/store/a"]]}`,
		`{"store_layers":[]} trailing`,
	} {
		_, err := readConf(strings.NewReader(conf))
		if !errors.Is(err, errdefs.ErrInvalidInput) || !strings.Contains(err.Error(), "extra data") {
			t.Errorf("%s: %v, want extra data refused", conf, err)
		}
	}
}

// TestConfIDsAreLinuxIDs: a uid or gid is a Linux uid_t, 0 to 4294967294
// (4294967295 is -1, "leave unchanged" to chown). A larger one (nixpkgs'
// int() takes any) gave entries GNU tar refuses ("out of range") and that
// an unpacker's chown truncates to 32 bits, another owner than written:
// 4294967296 is root.
func TestConfIDsAreLinuxIDs(t *testing.T) {
	for _, id := range []string{`"4294967295"`, `4294967296`, `"99999999999"`, `"18446744073709551616"`} {
		_, err := readConf(strings.NewReader(`{"store_layers":[],"uid":` + id + `}`))
		if !errors.Is(err, errdefs.ErrInvalidInput) || !strings.Contains(err.Error(), "4294967294") {
			t.Errorf("uid %s: %v, want refused naming the range", id, err)
		}
	}
	c, err := readConf(strings.NewReader(`{"store_layers":[],"uid":"4294967294","gid":4294967294}`))
	if err != nil || *c.Uid != 4294967294 || *c.Gid != 4294967294 {
		t.Fatalf("the largest id: %+v, %v", c, err)
	}
}

// TestConfOwnerNamesBounded: uname and gname are written into every entry
// of every store layer, so their length multiplies by the entries: a
// 100 KB uname made a layer of 1,000 empty files 100 MB. They are bounded
// as Linux bounds a login name (255 bytes), and a NUL, which no tar header
// holds (it failed mid-stream), is refused before anything is written.
func TestConfOwnerNamesBounded(t *testing.T) {
	for _, tc := range []struct{ name, conf, msg string }{
		{"LongUname", `{"store_layers":[],"uname":"` + strings.Repeat("u", 100000) + `"}`, "uname \"uuu"},
		{"LongGname", `{"store_layers":[],"gname":"` + strings.Repeat("g", 256) + `"}`, "is longer than 255 bytes"},
		{"NUL", `{"store_layers":[],"uname":"a\u0000b"}`, `uname "a\x00b" holds a NUL byte`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readConf(strings.NewReader(tc.conf))
			if !errors.Is(err, errdefs.ErrInvalidInput) || len(err.Error()) > 400 || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("%.400q, want refused saying %q", err, tc.msg)
			}
		})
	}
	c, err := readConf(strings.NewReader(`{"store_layers":[],"uname":"` + strings.Repeat("u", 255) + `","gname":"wheel"}`))
	if err != nil || len(*c.Uname) != 255 || *c.Gname != "wheel" {
		t.Fatalf("names of 255 bytes and less: %+v, %v", c, err)
	}
}
