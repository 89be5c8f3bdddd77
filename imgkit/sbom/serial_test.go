package sbom

import "testing"

// TestSerialNumber: the serial number is the version 5 UUID of the
// namespace URI, as Python computes it: python3 -c 'import uuid;
// print(uuid.uuid5(uuid.NAMESPACE_URL, "https://dockertools.dev/sbom/hello/sha256:" + "0"*64))'.
func TestSerialNumber(t *testing.T) {
	img := &Image{Name: "hello", ID: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}
	if got, want := img.namespace(), "https://dockertools.dev/sbom/hello/sha256:0000000000000000000000000000000000000000000000000000000000000000"; got != want {
		t.Fatalf("namespace %s, want %s", got, want)
	}
	if got, err := img.serialNumber(); err != nil || got != "urn:uuid:e9c1ee0c-b43b-5827-ba55-da993d5417f6" {
		t.Fatalf("serial %s, %v; want urn:uuid:e9c1ee0c-b43b-5827-ba55-da993d5417f6", got, err)
	}
}
