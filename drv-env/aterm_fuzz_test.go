package main

import (
	"reflect"
	"strings"
	"testing"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/testkit"
)

// FuzzParseDerivation: a .drv is read from a store the user names, so it
// may be crafted. Any input is a derivation or one line wrapping
// ErrInvalidInput, never a panic; a derivation read is written back in
// ATerm (as Nix writes it) and read again to the same derivation. The
// seeds are the .drv files of the testscript fixtures.
func FuzzParseDerivation(f *testing.F) {
	for _, fx := range testkit.FixturesNamed(f, ".drv", ".drv.in") {
		f.Add(fx.Data)
	}
	f.Add([]byte(`Derive([],[],[],"","",[],[])`))
	f.Add([]byte(`DrvWithVersion("xp-dyn-drv",[],[],[],"","",[],[])`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseDerivation("x.drv", data)
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput)
			return
		}
		again, err := parseDerivation("again.drv", []byte(writeATerm(d)))
		if err != nil {
			t.Fatalf("%s written back does not read: %v", data, err)
		}
		if !reflect.DeepEqual(d, again) {
			t.Fatalf("read %+v, written back and read again %+v", d, again)
		}
	})
}

// writeATerm writes d as Nix writes a .drv (see derivation).
func writeATerm(d *derivation) string {
	var b strings.Builder
	list := func(n int, item func(i int)) {
		b.WriteString("[")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			item(i)
		}
		b.WriteString("]")
	}
	str := func(s string) {
		b.WriteString(`"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s) + `"`)
	}
	strs := func(ss []string) { list(len(ss), func(i int) { str(ss[i]) }) }
	tuple := func(fields ...func()) {
		b.WriteString("(")
		for i, f := range fields {
			if i > 0 {
				b.WriteString(",")
			}
			f()
		}
		b.WriteString(")")
	}
	b.WriteString("Derive(")
	list(len(d.outputs), func(i int) {
		o := d.outputs[i]
		tuple(func() { str(o.name) }, func() { str(o.path) }, func() { str(o.hashAlgo) }, func() { str(o.hash) })
	})
	b.WriteString(",")
	list(len(d.inputDrvs), func(i int) {
		in := d.inputDrvs[i]
		tuple(func() { str(in.path) }, func() { strs(in.outputs) })
	})
	b.WriteString(",")
	strs(d.inputSrcs)
	b.WriteString(",")
	str(d.system)
	b.WriteString(",")
	str(d.builder)
	b.WriteString(",")
	strs(d.args)
	b.WriteString(",")
	list(len(d.env), func(i int) { tuple(func() { str(d.env[i].name) }, func() { str(d.env[i].value) }) })
	b.WriteString(")")
	return b.String()
}
