package main

import (
	"errors"
	"fmt"
	"io/fs"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/pyjson"
)

// nixConf holds the fields of nixpkgs' stream configuration (reference
// §5.1) that shape the image archive. The store-layer fields are
// layer-pack's; os is ignored, as nixpkgs' script ignores it.
type nixConf struct {
	Architecture string
	Config       *pyjson.Object
	Created      string
	RepoTag      string
	FromImage    string
}

// readJSONObject reads a JSON object from a file with Python's json.load
// semantics (key order kept).
func readJSONObject(o *cli.IO, file, what string) (*pyjson.Object, error) {
	f, err := o.OpenNamed(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s %q: %w", what, file, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s %q: %w", what, file, cli.PathCause(err))
	}
	defer f.Close()
	data, err := cli.ReadAllMax(f, cli.MaxDocument)
	if err != nil {
		return nil, fmt.Errorf("reading %s %q: %w", what, file, cli.PathCause(err))
	}
	v, err := pyjson.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("reading %s %q: %w", what, file, err)
	}
	obj, ok := v.(*pyjson.Object)
	if !ok {
		return nil, fmt.Errorf("reading %s %q: not a JSON object: %w", what, file, errdefs.ErrInvalidInput)
	}
	return obj, nil
}

func readConf(o *cli.IO, file string) (*nixConf, error) {
	obj, err := readJSONObject(o, file, "--conf")
	if err != nil {
		return nil, err
	}
	c := &nixConf{}
	bad := func(key, want string) error {
		return fmt.Errorf("reading --conf %q: %s is not %s: %w", file, key, want, errdefs.ErrInvalidInput)
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"architecture", &c.Architecture}, {"created", &c.Created}, {"repo_tag", &c.RepoTag}, {"from_image", &c.FromImage}} {
		v, ok := obj.Get(f.key)
		if !ok || v == (pyjson.Null{}) {
			continue
		}
		s, ok := v.(pyjson.String)
		if !ok {
			return nil, bad(f.key, "a string")
		}
		*f.dst = string(s)
	}
	if v, ok := obj.Get("config"); ok && v != (pyjson.Null{}) {
		if c.Config, ok = v.(*pyjson.Object); !ok {
			return nil, bad("config", "an object")
		}
	}
	return c, nil
}
