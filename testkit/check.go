package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// CheckImage validates an image archive with real clients: skopeo copies it
// into an OCI layout (which verifies every layer against its diff_id and the
// config digest) and umoci unpacks that layout. oci selects the OCI archive
// transport instead of docker-archive. work is a scratch directory.
func CheckImage(file string, oci bool, work string) error {
	for _, c := range []string{"skopeo", "umoci"} {
		if why := Missing(c); why != "" {
			return fmt.Errorf("%s", why)
		}
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	layout := filepath.Join(work, "check-oci")
	bundle := filepath.Join(work, "check-bundle")
	os.RemoveAll(layout)
	os.RemoveAll(bundle)
	defer os.RemoveAll(layout)
	defer os.RemoveAll(bundle)
	src := "docker-archive:" + file
	if oci {
		src = "oci-archive:" + file
	}
	if out, err := exec.Command("skopeo", "--insecure-policy", "copy", "--quiet", src, "oci:"+layout+":check").CombinedOutput(); err != nil {
		return fmt.Errorf("skopeo copy %s: %v: %s", src, err, strings.TrimSpace(string(out)))
	}
	if out, err := exec.Command("umoci", "unpack", "--image", layout+":check", bundle).CombinedOutput(); err != nil {
		return fmt.Errorf("umoci unpack: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
