package sbom

import (
	packageurl "github.com/package-url/packageurl-go"
)

// ParseDrvName splits a store path's name (what follows "<hash>-") into a
// package name and version as Nix's builtins.parseDrvName does: the
// version starts after the first "-" that is followed by a character other
// than an ASCII letter, and is "" when there is no such dash. So
// "python3.11-requests-2.31.0" is python3.11-requests 2.31.0 and
// "nix-2.18.1-man" is nix 2.18.1-man (an output's suffix stays in the
// version, as Nix keeps it).
func ParseDrvName(s string) (name, version string) {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '-' && !isASCIILetter(s[i+1]) {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// PURL is the package URL of a store path: pkg:nix/NAME@VERSION (no
// @VERSION when the version is empty) with the qualifier outputhash, the
// store path's hash part, which tells two builds of one name and version
// apart; syft's Nix cataloger writes the same qualifier. The purl
// specification has no registered nix type yet (a candidate type, proposed
// in package-url/purl-spec#314 and #877). Escaping is the specification's,
// done by its reference library (package-url/packageurl-go): a "+" in a
// name is %2B, and so on.
func PURL(name, version, hashPart string) string {
	q := packageurl.Qualifiers{{Key: "outputhash", Value: hashPart}}
	return packageurl.NewPackageURL("nix", "", name, version, q, "").ToString()
}
