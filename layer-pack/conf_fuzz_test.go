package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/testkit"
)

// FuzzReadConf: a stream configuration readConf accepts has a plan that
// is a valid layer plan and ids that are not negative, and written again
// in nixpkgs' shape (uid and gid as strings, as nixpkgs writes them) it
// reads back the same. Anything refused is one line wrapping
// ErrInvalidInput.
func FuzzReadConf(f *testing.F) {
	for _, fx := range testkit.FixturesNamed(f, ".json") {
		f.Add(fx.Data)
	}
	f.Add([]byte(`{"store_dir":"/nix/store","store_layers":[["/nix/store/a"],[]],"customisation_layer":"/c","mtime":"1970-01-01T00:00:01Z","uid":"0","gid":7,"uname":"root","gname":"root"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := readConf(bytes.NewReader(data))
		if err != nil {
			testkit.CheckError(t, err, errdefs.ErrInvalidInput)
			return
		}
		var plan bytes.Buffer
		if err := graphplan.WritePlan(&plan, c.StoreLayers); err != nil {
			t.Fatal(err)
		}
		if _, err := graphplan.ReadPlan(&plan); err != nil {
			t.Fatalf("the plan accepted is not a plan: %v", err)
		}
		if c.Uid != nil && *c.Uid < 0 || c.Gid != nil && *c.Gid < 0 {
			t.Fatalf("a negative id accepted: %v %v", c.Uid, c.Gid)
		}
		out := map[string]any{"store_dir": c.StoreDir, "store_layers": c.StoreLayers, "customisation_layer": c.CustomisationLayer, "mtime": c.Mtime, "uname": c.Uname, "gname": c.Gname}
		for key, id := range map[string]*int64{"uid": c.Uid, "gid": c.Gid} {
			if id != nil {
				out[key] = strconv.FormatInt(*id, 10)
			}
		}
		again, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		back, err := readConf(bytes.NewReader(again))
		if err != nil {
			t.Fatalf("written again as %s, it does not read: %v", again, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("%+v written again reads as %+v", c, back)
		}
	})
}
