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
		{"NotAnInteger", `{"store_layers":[],"uid":"root"}`, `uid "root" is not a non-negative integer`},
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
