package main

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/pyjson"
)

// streamConf holds the fields of nixpkgs' stream configuration
// (conf.json, reference §5.1) that layer-pack uses. The image fields
// (architecture, config, created, repo_tag, from_image, …) are
// manifest-gen's.
type streamConf struct {
	StoreDir           string
	StoreLayers        graphplan.Plan
	CustomisationLayer string // a directory with layer.tar and checksum; "" for none
	Mtime              string // "" when the configuration has none
	Uid, Gid           *int64
	Uname, Gname       *string
}

// maxOwnerName bounds uname and gname as Linux bounds a login name
// (LOGIN_NAME_MAX, 256 with its NUL). Each is written into every entry of
// every store layer, so a name of a megabyte would make a layer of a
// million entries a terabyte of headers.
const maxOwnerName = 255

// checkOwnerNames says what is wrong with uname or gname (either may be
// nil), named with prefix ("--" for the flags), or returns nil: each at
// most maxOwnerName bytes, no NUL (which a tar header cannot hold).
func checkOwnerNames(prefix string, uname, gname *string) error {
	for _, f := range []struct {
		key string
		s   *string
	}{{"uname", uname}, {"gname", gname}} {
		switch {
		case f.s == nil:
		case len(*f.s) > maxOwnerName:
			return fmt.Errorf("%s%s %s is longer than %d bytes", prefix, f.key, errdefs.Quote(*f.s), maxOwnerName)
		case strings.IndexByte(*f.s, 0) >= 0:
			return fmt.Errorf("%s%s %s holds a NUL byte", prefix, f.key, errdefs.Quote(*f.s))
		}
	}
	return nil
}

// readConf parses a stream configuration as nixpkgs' script does, with
// Python's json.load (pyjson): keys are matched exactly (Go's
// encoding/json would take "STORE_LAYERS" for store_layers, so one file
// could give layer-pack other layers than nixpkgs and manifest-gen read),
// a repeated key's last value counts, and nothing may follow the object.
func readConf(r io.Reader) (*streamConf, error) {
	data, err := cli.ReadAllMax(r, cli.MaxDocument)
	if err != nil {
		return nil, err
	}
	v, err := pyjson.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("expected a JSON object as nixpkgs' conf.json: %w", err)
	}
	obj, ok := v.(*pyjson.Object)
	if !ok {
		return nil, fmt.Errorf("expected a JSON object as nixpkgs' conf.json, not %s: %w", shownJSON(v), errdefs.ErrInvalidInput)
	}
	layers, ok := obj.Get("store_layers")
	if !ok || layers == (pyjson.Null{}) {
		return nil, fmt.Errorf("no store_layers: %w", errdefs.ErrInvalidInput)
	}
	// ReadPlan checks the plan's text and paths; the value printed again
	// is ASCII, with a lone surrogate as the escape ReadPlan refuses.
	plan, err := graphplan.ReadPlan(bytes.NewReader(pyjson.Dumps(layers, pyjson.None)))
	if err != nil {
		return nil, fmt.Errorf("store_layers: %w", err)
	}
	c := &streamConf{StoreLayers: plan}
	var storeDir, custom, mtime, created *string
	for _, f := range []struct {
		key string
		dst **string
	}{{"store_dir", &storeDir}, {"customisation_layer", &custom}, {"mtime", &mtime}, {"created", &created}, {"uname", &c.Uname}, {"gname", &c.Gname}} {
		if *f.dst, err = confString(obj, f.key); err != nil {
			return nil, err
		}
	}
	if err := checkOwnerNames("", c.Uname, c.Gname); err != nil {
		return nil, fmt.Errorf("%w: %w", err, errdefs.ErrInvalidInput)
	}
	if storeDir != nil {
		c.StoreDir = *storeDir
	}
	if custom != nil {
		c.CustomisationLayer = *custom
	}
	// Configurations from before nixpkgs had mtime used created for it.
	switch {
	case mtime != nil:
		c.Mtime = *mtime
	case created != nil:
		c.Mtime = *created
	}
	if c.Uid, err = confID(obj, "uid"); err != nil {
		return nil, err
	}
	if c.Gid, err = confID(obj, "gid"); err != nil {
		return nil, err
	}
	return c, nil
}

// confString reads the string member key; nil when it is missing or null.
func confString(obj *pyjson.Object, key string) (*string, error) {
	v, ok := obj.Get(key)
	if !ok || v == (pyjson.Null{}) {
		return nil, nil
	}
	s, ok := v.(pyjson.String)
	if !ok {
		return nil, fmt.Errorf("%s is %s, want a string: %w", key, shownJSON(v), errdefs.ErrInvalidInput)
	}
	if !utf8.ValidString(string(s)) {
		return nil, fmt.Errorf("%s %s holds half a UTF-16 surrogate pair, no character: %w", key, shownJSON(v), errdefs.ErrInvalidInput)
	}
	str := string(s)
	return &str, nil
}

// confID reads uid or gid, which nixpkgs writes as a string and its script
// reads with int(): a JSON integer or a string of decimal digits, at most
// cli.MaxID.
func confID(obj *pyjson.Object, key string) (*int64, error) {
	v, ok := obj.Get(key)
	if !ok || v == (pyjson.Null{}) {
		return nil, nil
	}
	var s string
	switch v := v.(type) {
	case pyjson.String:
		s = strings.TrimSpace(string(v))
	case pyjson.Int:
		s = v.String()
	default:
		return nil, fmt.Errorf("%s is %s, want a number or a string of digits: %w", key, shownJSON(v), errdefs.ErrInvalidInput)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > cli.MaxID {
		return nil, fmt.Errorf("%s %s is not an id from 0 to %d: %w", key, shownJSON(v), int64(cli.MaxID), errdefs.ErrInvalidInput)
	}
	return &n, nil
}

// shownJSON is a JSON value as an error shows it: compact on one line, and
// quoted and cut when long.
func shownJSON(v pyjson.Value) string {
	b := pyjson.Options{Indent: pyjson.None, ItemSeparator: ",", KeySeparator: ":"}.Dumps(v)
	if len(b) > errdefs.MaxQuoted {
		return errdefs.Quote(string(b))
	}
	return string(b)
}
