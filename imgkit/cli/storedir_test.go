package cli

import (
	"errors"
	"testing"
)

func TestStoreDir(t *testing.T) {
	for _, c := range []struct {
		flag, env, want string
		usage           bool
	}{
		{"", "", "/nix/store", false},
		{"", "/gnu/store/", "/gnu/store", false},
		{"/opt/store", "/gnu/store", "/opt/store", false},
		{"store", "", "", true},
		{"/", "", "", true},
		{"", "relative", "", true},
	} {
		o := &IO{Getenv: func(k string) string {
			if k == "NIX_STORE_DIR" {
				return c.env
			}
			return ""
		}}
		got, err := o.StoreDir(c.flag)
		var ue *UsageError
		if got != c.want || errors.As(err, &ue) != c.usage || (err != nil) != c.usage {
			t.Errorf("StoreDir(%q) with NIX_STORE_DIR=%q = %q, %v; want %q (usage error: %v)", c.flag, c.env, got, err, c.want, c.usage)
		}
	}
}

func TestCheckStoreDirNotGiven(t *testing.T) {
	if err := CheckStoreDir(""); err != nil {
		t.Errorf(`CheckStoreDir("") = %v; want nil: the flag not given is for StoreDir to fill in`, err)
	}
	var ue *UsageError
	if err := CheckStoreDir("store"); !errors.As(err, &ue) {
		t.Errorf(`CheckStoreDir("store") = %v; want a usage error`, err)
	}
}
