package main

import (
	"fmt"
	"strings"

	"dockertools.dev/imgkit/errdefs"
)

// derivation is a store derivation (a .drv file), as Nix writes it in
// its ATerm form, which has not changed since Nix 1.0:
//
//	Derive([("out","/nix/store/…-x","","")],       outputs: name, path, hash algorithm, hash
//	       [("/nix/store/…-dep.drv",["out"])],     input derivations and the outputs used
//	       ["/nix/store/…-src"],                    input sources
//	       "x86_64-linux","/nix/store/…/bin/sh",    system, builder
//	       ["-e","…"],                              arguments
//	       [("name","x"),("out","/nix/store/…-x")]) the environment, sorted by name
//
// Strings escape ", \, newline, carriage return and tab with a backslash.
type derivation struct {
	outputs   []output
	inputDrvs []inputDrv
	inputSrcs []string
	system    string
	builder   string
	args      []string
	env       []pair
}

type output struct{ name, path, hashAlgo, hash string }

type inputDrv struct {
	path    string
	outputs []string
}

type pair struct{ name, value string }

// get returns the environment's value of name.
func (d *derivation) get(name string) (string, bool) {
	for _, p := range d.env {
		if p.name == name {
			return p.value, true
		}
	}
	return "", false
}

// parseDerivation reads the ATerm text of a .drv file; name says which,
// for messages.
func parseDerivation(name string, data []byte) (*derivation, error) {
	p := &atermParser{s: string(data)}
	d, err := p.derivation()
	if err != nil {
		return nil, fmt.Errorf("derivation %q: at byte %d: %v: %w", name, p.i, err, errdefs.ErrInvalidInput)
	}
	return d, nil
}

type atermParser struct {
	s string
	i int
}

func (p *atermParser) derivation() (*derivation, error) {
	if strings.HasPrefix(p.s, "DrvWithVersion(") {
		return nil, fmt.Errorf("a derivation of an experimental format (DrvWithVersion), which is not supported")
	}
	d := &derivation{}
	err := p.seq(
		p.lit("Derive("),
		p.list(func() error {
			var o output
			err := p.tuple(p.str(&o.name), p.str(&o.path), p.str(&o.hashAlgo), p.str(&o.hash))
			d.outputs = append(d.outputs, o)
			return err
		}),
		p.lit(","),
		p.list(func() error {
			var in inputDrv
			err := p.tuple(p.str(&in.path), p.strs(&in.outputs))
			d.inputDrvs = append(d.inputDrvs, in)
			return err
		}),
		p.lit(","), p.strs(&d.inputSrcs),
		p.lit(","), p.str(&d.system),
		p.lit(","), p.str(&d.builder),
		p.lit(","), p.strs(&d.args),
		p.lit(","),
		p.list(func() error {
			var kv pair
			err := p.tuple(p.str(&kv.name), p.str(&kv.value))
			d.env = append(d.env, kv)
			return err
		}),
		p.lit(")"),
	)
	if err != nil {
		return nil, err
	}
	if p.i != len(p.s) {
		return nil, fmt.Errorf("text after the derivation")
	}
	d.inputDrvs = lastOfEach(d.inputDrvs)
	return d, nil
}

// lastOfEach keeps one entry per input derivation, with the outputs of
// its last one, as Nix reads them into a map (insert_or_assign). Nix never
// writes a path twice; a crafted .drv that listed one input 400 times,
// each read and parsed again, took 33 s for 25 KB (and hours with a
// larger input).
func lastOfEach(in []inputDrv) []inputDrv {
	at := make(map[string]int, len(in))
	out := in[:0]
	for _, d := range in {
		if i, ok := at[d.path]; ok {
			out[i].outputs = d.outputs
			continue
		}
		at[d.path] = len(out)
		out = append(out, d)
	}
	return out
}

// The parser is built of steps, each a func() error run in turn.
type step = func() error

func (p *atermParser) seq(steps ...step) error {
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

func (p *atermParser) lit(want string) step {
	return func() error {
		if !strings.HasPrefix(p.s[p.i:], want) {
			return fmt.Errorf("want %q", want)
		}
		p.i += len(want)
		return nil
	}
}

// list parses [item,item,…].
func (p *atermParser) list(item step) step {
	return func() error {
		if err := p.lit("[")(); err != nil {
			return err
		}
		if strings.HasPrefix(p.s[p.i:], "]") {
			p.i++
			return nil
		}
		for {
			if err := item(); err != nil {
				return err
			}
			if strings.HasPrefix(p.s[p.i:], "]") {
				p.i++
				return nil
			}
			if err := p.lit(",")(); err != nil {
				return err
			}
		}
	}
}

// tuple parses (a,b,…).
func (p *atermParser) tuple(fields ...step) error {
	if err := p.lit("(")(); err != nil {
		return err
	}
	for i, f := range fields {
		if i > 0 {
			if err := p.lit(",")(); err != nil {
				return err
			}
		}
		if err := f(); err != nil {
			return err
		}
	}
	return p.lit(")")()
}

func (p *atermParser) strs(out *[]string) step {
	return p.list(func() error {
		var s string
		err := p.str(&s)()
		*out = append(*out, s)
		return err
	})
}

func (p *atermParser) str(out *string) step {
	return func() error {
		if err := p.lit(`"`)(); err != nil {
			return err
		}
		var b strings.Builder
		for {
			if p.i >= len(p.s) {
				return fmt.Errorf("a string without its closing quote")
			}
			c := p.s[p.i]
			p.i++
			switch c {
			case '"':
				*out = b.String()
				return nil
			case '\\':
				if p.i >= len(p.s) {
					return fmt.Errorf("a string without its closing quote")
				}
				c = p.s[p.i]
				p.i++
				switch c {
				case 'n':
					c = '\n'
				case 'r':
					c = '\r'
				case 't':
					c = '\t'
				}
			}
			// No Nix string holds a NUL (Nix writes none), and none can
			// reach the image: an Env entry with one makes the runtime's
			// exec fail (EINVAL), and sh drops it from buildDerivation.
			if c == 0 {
				return fmt.Errorf("a NUL byte in a string, which no derivation Nix writes holds")
			}
			b.WriteByte(c)
		}
	}
}
