package main

import "testing"

func TestCheckName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"hello", "hello"},
		{"Hello", "hello"},
		{"registry-1.docker.io/library/hello", "registry-1.docker.io/library/hello"},
		{"localhost:5000/a/b", "localhost:5000/a/b"},
		{"a__b.c-d---e", "a__b.c-d---e"},
		{"[::1]:5000/x", "[::1]:5000/x"},
	}
	for _, c := range cases {
		got, err := checkName(c.in)
		if err != nil || got != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "hello world", "hello:1", "-x", "x-", "a___b", "a//b", "/a", "a/", "a.-b", "ünï"} {
		if _, err := checkName(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestSplitRepoTag(t *testing.T) {
	cases := []struct{ in, name, tag string }{
		{"hello:latest", "hello", "latest"},
		{"hello", "hello", ""},
		{"localhost:5000/hello", "localhost:5000/hello", ""},
		{"localhost:5000/hello:1", "localhost:5000/hello", "1"},
		{"", "", ""},
	}
	for _, c := range cases {
		if n, tg := splitRepoTag(c.in); n != c.name || tg != c.tag {
			t.Errorf("%q: got %q %q, want %q %q", c.in, n, tg, c.name, c.tag)
		}
	}
}
