package sbom

import (
	"crypto/sha1"
	"fmt"
	"net/url"
	"strings"
)

// namespace is the URI that names one image's SBOM: SPDX's
// documentNamespace, and the name CycloneDX's serial number is derived
// from. It depends on the image name and ID only.
func (img *Image) namespace() string {
	var segs []string
	for _, s := range strings.Split(img.Name, "/") {
		segs = append(segs, url.PathEscape(s))
	}
	return "https://dockertools.dev/sbom/" + strings.Join(segs, "/") + "/" + img.ID
}

// uuidNamespaceURL is RFC 9562's namespace for names that are URLs.
var uuidNamespaceURL = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// serialNumber is CycloneDX's serialNumber: the name-based (version 5)
// UUID of the namespace URI, so the same image always gets the same one.
// CycloneDX's schema allows versions 1 to 5 only, which rules out the
// newer custom version 8.
func (img *Image) serialNumber() (string, error) {
	sum, err := sha1Sum(uuidNamespaceURL[:], []byte(img.namespace()))
	if err != nil {
		return "", fmt.Errorf("its serial number is a version 5 UUID, made with SHA-1, which this environment forbids (%v)", err)
	}
	var u [16]byte
	copy(u[:], sum[:])
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}

// sha1Sum is the SHA-1 of the parts one after the other. With
// GODEBUG=fips140=only in the environment crypto/sha1 panics instead: that
// is an error here, not a crash.
func sha1Sum(parts ...[]byte) (sum [sha1.Size]byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	h := sha1.New()
	for _, p := range parts {
		h.Write(p)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}
