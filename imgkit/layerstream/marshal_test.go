package layerstream

import (
	"encoding/json"
	"testing"
)

func TestLayerInfoPaths(t *testing.T) {
	for _, c := range []struct {
		info LayerInfo
		want string
	}{
		{LayerInfo{DiffID: "d", Size: 1}, `{"diff_id":"d","size":1}`},
		{LayerInfo{DiffID: "d", Size: 1, Paths: []string{}}, `{"diff_id":"d","size":1,"paths":[]}`},
		{LayerInfo{DiffID: "d", Size: 1, Paths: []string{"/s/a"}, Comment: "c"}, `{"diff_id":"d","size":1,"paths":["/s/a"],"comment":"c"}`},
	} {
		b, err := json.Marshal(c.info)
		if err != nil || string(b) != c.want {
			t.Errorf("got %s %v, want %s", b, err, c.want)
		}
		var back LayerInfo
		if err := json.Unmarshal(b, &back); err != nil || (back.Paths == nil) != (c.info.Paths == nil) {
			t.Errorf("%s: paths %#v after a round trip", b, back.Paths)
		}
	}
}
