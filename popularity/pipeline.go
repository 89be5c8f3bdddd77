package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/pyjson"
)

// A layering pipeline (reference §6.3) is parsed and checked before the
// graph is read: every fault is reported with the step it is in, and the
// kinds of values flowing between steps are known from the text alone,
// so a step given the wrong kind of value (popularity_contest after
// popularity_contest) is found here too, not halfway through a run.

// fn is a pipeline function.
type fn int

const (
	fnPopularity fn = iota
	fnLimitLayers
	fnSplitEvery
	fnSubcomponentOut
	fnSubcomponentIn
	fnSplitPaths
	fnOver
	fnMap
	fnRemovePaths
	fnReverse
	fnFlatten
	fnPipe
)

// functions maps nixpkgs' names to the functions and their arguments, as
// an error message names them.
var functions = map[string]struct {
	fn   fn
	args []string
}{
	"popularity_contest": {fnPopularity, nil},
	"limit_layers":       {fnLimitLayers, []string{"the number of layers"}},
	"split_every":        {fnSplitEvery, []string{"the number of paths per graph"}},
	"subcomponent_out":   {fnSubcomponentOut, []string{"the paths"}},
	"subcomponent_in":    {fnSubcomponentIn, []string{"the paths"}},
	"split_paths":        {fnSplitPaths, []string{"the paths"}},
	"over":               {fnOver, []string{"the key", "the step"}},
	"map":                {fnMap, []string{"the step"}},
	"remove_paths":       {fnRemovePaths, []string{"the paths"}},
	"reverse":            {fnReverse, nil},
	"flatten":            {fnFlatten, nil},
	"pipe":               {fnPipe, []string{"the steps"}},
}

// step is one [fn, args...] of a pipeline.
type step struct {
	at    string // its number: "3", or "3.2" for the second step inside step 3
	name  string
	fn    fn
	n     int        // limit_layers, split_every
	paths []string   // subcomponent_*, remove_paths
	split []splitArg // split_paths
	key   part       // over
	steps []*step    // over and map: one; pipe: the nested pipeline
	// iterates describes the strings and objects given where a list
	// was due, which nixpkgs iterates (pathList).
	iterates []string
}

// splitArg is one path split_paths splits off: the path itself, or with
// children, the paths it references.
type splitArg struct {
	path     string
	children bool
}

// part is a key of the dict that split_paths and subcomponent_* return.
// Their order is the output order: main, common, rest.
type part int

const (
	partMain part = iota
	partCommon
	partRest
	nParts
)

var partNames = [nParts]string{"main", "common", "rest"}

// kind is the shape of a value between steps: a graph, a list of values
// of one kind, or a dict holding some of main, common and rest.
type kind struct {
	list  *kind         // a list of these
	parts [nParts]*kind // a dict: the kinds of the keys it can hold
	// withGraph: the list also holds a graph, the one limit_layers
	// merged the rest of a list of lists into.
	withGraph bool
}

var graphKind = &kind{}

func (k *kind) isGraph() bool { return k.list == nil && !k.isDict() }
func (k *kind) isDict() bool {
	return slices.ContainsFunc(k.parts[:], func(p *kind) bool { return p != nil })
}

func listOf(k *kind) *kind { return &kind{list: k} }

func (k *kind) String() string { return "a " + k.noun(false) }

// noun names k without an article, in the plural when many.
func (k *kind) noun(many bool) string {
	plural := func(word string) string {
		if many {
			return word + "s"
		}
		return word
	}
	switch {
	case k.withGraph:
		return plural("list") + " of " + k.list.noun(true) + " and a graph"
	case k.list != nil:
		return plural("list") + " of " + k.list.noun(true)
	case k.isDict():
		var keys []string
		for p, pk := range k.parts {
			if pk != nil {
				keys = append(keys, partNames[p])
			}
		}
		return plural("dict") + " (" + strings.Join(keys, ", ") + ")"
	}
	return plural("graph")
}

// parsePipeline reads a pipeline: a JSON array of steps, each an array of
// a function name and its arguments. Every error names the step (its
// number and function) and wraps errdefs.ErrInvalidInput.
func parsePipeline(data []byte) ([]*step, error) {
	v, err := pyjson.Parse(data)
	if err != nil {
		return nil, err
	}
	steps, err := parseSteps(v, "")
	if err != nil {
		return nil, err
	}
	if _, err := checkSteps(steps, graphKind); err != nil {
		return nil, err
	}
	return steps, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, errdefs.ErrInvalidInput)...)
}

// parseSteps reads a list of steps; prefix numbers them ("3." inside step 3).
func parseSteps(v pyjson.Value, prefix string) ([]*step, error) {
	a, ok := v.(pyjson.Array)
	if !ok {
		where := "the pipeline"
		if prefix != "" {
			where = "step " + strings.TrimSuffix(prefix, ".") + " (pipe)"
		}
		return nil, invalid("%s: want a list of steps, got %s", where, describe(v))
	}
	steps := make([]*step, len(a))
	for i, sv := range a {
		s, err := parseStep(sv, prefix+strconv.Itoa(i+1))
		if err != nil {
			return nil, err
		}
		steps[i] = s
	}
	return steps, nil
}

// parseStep reads one step, numbered at.
func parseStep(v pyjson.Value, at string) (*step, error) {
	a, ok := v.(pyjson.Array)
	if !ok || len(a) == 0 {
		return nil, invalid(`step %s: want ["function", arguments...], got %s`, at, describe(v))
	}
	name, ok := a[0].(pyjson.String)
	if !ok {
		return nil, invalid("step %s: the function name must be a string, got %s", at, describe(a[0]))
	}
	f, ok := functions[string(name)]
	if !ok {
		return nil, invalid("step %s: unknown function %q (known: %s)", at, string(name), knownFunctions())
	}
	s := &step{at: at, name: string(name), fn: f.fn}
	args := a[1:]
	if len(args) != len(f.args) {
		return nil, s.errorf("takes %s, got %d", describeArgs(f.args), len(args))
	}
	var err error
	switch s.fn {
	case fnLimitLayers, fnSplitEvery:
		s.n, err = s.count(args[0], f.args[0])
	case fnSubcomponentOut, fnSubcomponentIn:
		s.paths, err = s.pathList(args[0], false)
	case fnRemovePaths:
		s.paths, err = s.pathList(args[0], true)
	case fnSplitPaths:
		s.split, err = s.splitArgs(args[0])
	case fnOver:
		key, ok := args[0].(pyjson.String)
		i := slices.Index(partNames[:], string(key))
		if !ok || i < 0 {
			return nil, s.errorf("the key must be main, common or rest, got %s", describe(args[0]))
		}
		s.key = part(i)
		err = s.nested(args[1], at+".1")
	case fnMap:
		err = s.nested(args[0], at+".1")
	case fnPipe:
		s.steps, err = parseSteps(args[0], at+".")
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *step) errorf(format string, args ...any) error {
	return invalid("step %s (%s): "+format, append([]any{s.at, s.name}, args...)...)
}

// nested reads the step argument of over and map.
func (s *step) nested(v pyjson.Value, at string) error {
	inner, err := parseStep(v, at)
	if err != nil {
		return err
	}
	s.steps = []*step{inner}
	return nil
}

// count reads a whole number of at least 1. One too large for an int means
// "all of them" and is cut to math.MaxInt32, more paths than a graph holds.
func (s *step) count(v pyjson.Value, what string) (int, error) {
	i, ok := v.(pyjson.Int)
	if !ok || i.String() == "0" || strings.HasPrefix(i.String(), "-") {
		return 0, s.errorf("%s must be a whole number of at least 1, got %s", what, describe(v))
	}
	n, fits := i.Int64()
	if !fits || n > math.MaxInt32 {
		n = math.MaxInt32
	}
	return int(n), nil
}

// pathList reads the paths argument of subcomponent_* and remove_paths:
// a list of store paths. Anything else is taken as nixpkgs' Python takes
// it, iterated: a string is the list of its characters (each a path of one
// character, so a store path given alone matches nothing), an object the
// list of its keys; only remove_paths (whole) takes a string as one path.
func (s *step) pathList(v pyjson.Value, whole bool) ([]string, error) {
	if p, ok := v.(pyjson.String); ok && whole {
		return []string{string(p)}, nil
	}
	a, ok := s.iterated(v)
	if !ok {
		want := "a list of store paths"
		if whole {
			want = "a store path or a list of them"
		}
		return nil, s.errorf("the paths must be %s, got %s", want, describe(v))
	}
	paths := make([]string, len(a))
	for i, e := range a {
		p, ok := e.(pyjson.String)
		if !ok {
			return nil, s.errorf("path %d must be a string, got %s", i+1, describe(e))
		}
		paths[i] = string(p)
	}
	return paths, nil
}

// iterated is what Python's `for x in v` yields for a JSON value: the
// elements of a list, the characters of a string, the keys of an object;
// ok is false for a value Python cannot iterate. A string or an object
// is recorded in s.iterates, for -v to say what nixpkgs makes of it.
func (s *step) iterated(v pyjson.Value) (pyjson.Array, bool) {
	switch v := v.(type) {
	case pyjson.Array:
		return v, true
	case pyjson.String:
		s.iterates = append(s.iterates, describe(v))
		var chars pyjson.Array
		for rest := string(v); rest != ""; {
			// A byte that is not UTF-8 (a lone surrogate's WTF-8) is
			// a character of its own here: a graph's paths are UTF-8,
			// so it matches none either way.
			_, n := utf8.DecodeRuneInString(rest)
			chars = append(chars, pyjson.String(rest[:n]))
			rest = rest[n:]
		}
		return chars, true
	case *pyjson.Object:
		s.iterates = append(s.iterates, describe(v))
		return pyjson.Strings(v.Keys()), true
	}
	return nil, false
}

// splitArgs reads split_paths' argument: a list of store paths and
// {"children_of": paths} objects, where paths is a list of store paths
// or one alone. A string or an object instead of the list is iterated,
// as nixpkgs does (see pathList).
func (s *step) splitArgs(v pyjson.Value) ([]splitArg, error) {
	items, ok := s.iterated(v)
	if !ok {
		return nil, s.errorf(`the paths must be a list of store paths and {"children_of": paths}, got %s`, describe(v))
	}
	var out []splitArg
	for i, e := range items {
		switch e := e.(type) {
		case pyjson.String:
			out = append(out, splitArg{path: string(e)})
		case *pyjson.Object:
			parents, ok := e.Get("children_of")
			if !ok || e.Len() != 1 {
				return nil, s.errorf(`path %d: an object must be {"children_of": paths}, got keys %q`, i+1, e.Keys())
			}
			if _, ok := parents.(pyjson.Array); !ok {
				parents = pyjson.Array{parents} // one path alone
			}
			ps, err := s.pathList(parents, false)
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				out = append(out, splitArg{path: p, children: true})
			}
		default:
			return nil, s.errorf(`path %d must be a store path or {"children_of": paths}, got %s`, i+1, describe(e))
		}
	}
	return out, nil
}

// checkSteps returns the kind a list of steps makes of a value of kind in,
// or the error of the first step that cannot take what it is given.
func checkSteps(steps []*step, in *kind) (*kind, error) {
	k := in
	for _, s := range steps {
		var err error
		if k, err = s.check(k); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func (s *step) check(in *kind) (*kind, error) {
	need := func(what string, ok bool) error {
		if ok {
			return nil
		}
		return s.errorf("takes %s, but is given %s", what, in)
	}
	graphParts := func(parts ...part) *kind {
		k := &kind{}
		for _, p := range parts {
			k.parts[p] = graphKind
		}
		return k
	}
	switch s.fn {
	case fnPopularity, fnSplitEvery:
		return listOf(graphKind), need("a graph", in.isGraph())
	case fnRemovePaths:
		return graphKind, need("a graph", in.isGraph())
	case fnSubcomponentOut, fnSubcomponentIn:
		return graphParts(partMain, partRest), need("a graph", in.isGraph())
	case fnSplitPaths:
		return graphParts(partMain, partCommon, partRest), need("a graph", in.isGraph())
	case fnLimitLayers:
		if err := need("a list of graphs or of lists", in.list != nil && !in.list.isDict()); err != nil {
			return nil, err
		}
		// The rest is merged into one graph (evaluator.limitLayers): a
		// list of graphs stays one, a list of lists gains a graph.
		switch {
		case in.list.isGraph():
			return in, nil
		case s.n == 1:
			return listOf(graphKind), nil
		}
		return &kind{list: in.list, withGraph: true}, nil
	case fnReverse:
		return in, need("a list", in.list != nil)
	case fnFlatten:
		return listOf(graphKind), nil
	case fnMap:
		if err := need("a list", in.list != nil); err != nil {
			return nil, err
		}
		// No step takes both a list and a graph (Python fails).
		if err := need("a list of values of one kind", !in.withGraph); err != nil {
			return nil, err
		}
		out, err := s.steps[0].check(in.list)
		if err != nil {
			return nil, err
		}
		return listOf(out), nil
	case fnOver:
		if err := need("a dict", in.isDict()); err != nil {
			return nil, err
		}
		if in.parts[s.key] == nil {
			return nil, s.errorf("is given %s, which has no key %s", in, partNames[s.key])
		}
		out, err := s.steps[0].check(in.parts[s.key])
		if err != nil {
			return nil, err
		}
		k := *in
		k.parts[s.key] = out
		return &k, nil
	case fnPipe:
		return checkSteps(s.steps, in)
	}
	panic("unreachable")
}

// describe names the JSON type of v for an error message, with the value
// when it is short.
func describe(v pyjson.Value) string {
	switch v := v.(type) {
	case pyjson.String:
		if len(v) > 60 {
			return "a string"
		}
		return fmt.Sprintf("the string %q", string(v))
	case pyjson.Int:
		if s := v.String(); len(s) <= 20 {
			return "the number " + s
		}
		return "a number"
	case pyjson.Float:
		return "the number " + pyjson.FloatRepr(float64(v))
	case pyjson.Bool:
		return fmt.Sprintf("%t", bool(v))
	case pyjson.Null:
		return "null"
	case pyjson.Array:
		if len(v) == 0 {
			return "an empty list"
		}
		return "a list"
	}
	return "an object"
}

func describeArgs(names []string) string {
	switch len(names) {
	case 0:
		return "no arguments"
	case 1:
		return "1 argument (" + names[0] + ")"
	}
	return fmt.Sprintf("%d arguments (%s)", len(names), strings.Join(names, ", "))
}

func knownFunctions() string {
	names := make([]string, 0, len(functions))
	for name := range functions {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
