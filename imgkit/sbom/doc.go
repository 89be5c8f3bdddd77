// Package sbom writes the software bill of materials of an image built
// from a Nix closure, in CycloneDX 1.6 JSON and SPDX 2.3 JSON. Scanners
// guess an image's packages from a distribution's database, which a Nix
// image has none of; here the answer is known exactly at build time: each
// store path is a package, the closure graph is the dependency graph, and
// the layer plan says which layer holds each path.
//
// # What is in it
//
// The image is the document's subject: CycloneDX's metadata.component
// (type container) and SPDX's described package (purpose CONTAINER), named
// by the image name (no tag: a default tag derives from the config, which
// an SBOM carried in the image changes), its version the image ID
// (Image.ID). Then one component (CycloneDX, type library) or package
// (SPDX) per store path of the closure graph, in the graph's order:
//
//   - name and version: the store path's name (what follows the hash
//     part and its dash) split as Nix's builtins.parseDrvName splits it:
//     the version starts after the first "-" followed by a character
//     that is not an ASCII letter, and is empty when no dash is
//     ("hello-2.12.1" is hello 2.12.1, "python3.11-requests-2.31.0" is
//     python3.11-requests 2.31.0, "nix-2.18.1-man" is nix 2.18.1-man,
//     "source" is source and no version). The tests check the rule's
//     table against Nix's own parseDrvName. A name Nix splits into no
//     name ("-1.0") is the whole name, without a version: a purl needs a
//     name;
//   - purl: pkg:nix/NAME@VERSION?outputhash=HASHPART (see PURL: the
//     purl specification has no nix type yet; this is the shape syft's
//     Nix cataloger writes, escaped by the specification's library);
//   - the NAR hash, when the graph has one (closure-scan --nar-hash): a
//     SHA-256 hash (CycloneDX hashes; SPDX package checksum, the NAR being
//     the package's archive form), in hex as both formats require;
//   - properties (CycloneDX) or OTHER annotations whose comment is
//     "name=value" (SPDX), the same pairs in both:
//     dockertools-go:nix:store_path, dockertools-go:nix:nar_hash (Nix's
//     sha256:<base32>, when known), dockertools-go:nix:nar_size, and,
//     for a path a layer of the image holds, dockertools-go:layer:diff_id
//     and dockertools-go:layer:index (its position, base layers
//     included). The layer is named by its diff_id, the digest of the
//     uncompressed layer tar that the config's rootfs lists: the same in
//     a docker-archive, an OCI layout and a registry, whatever the
//     compression, so one SBOM fits every form of the image. A path in
//     no layer (one a base image holds) has no layer pair;
//   - the dependency graph from the references, a self-reference left
//     out: CycloneDX dependencies (every component listed, an empty
//     dependsOn saying it depends on nothing, and the image depending on
//     the paths nothing else refers to and on the first path of each
//     cycle of references nothing else leads to, so that it reaches
//     every component); SPDX relationships DESCRIBES
//     (document → image), CONTAINS (image → each path) and DEPENDS_ON.
//
// Graph nodes whose last element is not a store path name are left out:
// those are the extra roots workflows scan (closure-scan --extra-root:
// the customisation root, the config file).
//
// # Reproducible
//
// The same image gives the same bytes: nothing comes from the clock or a
// random source. The CycloneDX serial number is the version 5 (name-based)
// UUID of the namespace URI
// https://dockertools.dev/sbom/NAME/sha256:<image ID>, which is SPDX's
// documentNamespace; SPDX's required creation time (and its annotations'
// dates) is the image's creation time (nixpkgs' default
// 1970-01-01T00:00:01Z; one past the year 9999 in UTC, which SPDX's
// dates cannot write, is an error), and CycloneDX has no timestamp. CycloneDX's
// metadata says cdx:reproducible = true, the property taxonomy's flag for
// such a document. Components are in store path order, references
// sorted.
//
// The ID is the image ID of the image without its SBOM: an SBOM carried
// inside the image (manifest-gen --sbom-in-image) cannot name the digest
// of a config that lists the layer holding it. So it is the image ID of
// the same image built without that layer, and an SBOM written beside an
// image or attached to it in a registry has the same bytes whether or not
// the image also carries it. The image ID is used rather than the
// manifest digest because every form of the image shares it (a
// docker-archive has no manifest; an OCI layout's and a registry's depend
// on the layer compression).
//
// # Libraries
//
// Both documents are built with the formats' own Go libraries,
// github.com/CycloneDX/cyclonedx-go (CycloneDX's, v0.12.0) and
// github.com/spdx/tools-golang (SPDX's, v0.5.7, its latest release),
// rather than JSON written by hand: their types follow each
// specification's field names and order, their encoders are deterministic
// (encoding/json over structs), and they are what consumers such as syft
// read the documents with. Purls are written by
// github.com/package-url/packageurl-go, the purl specification's Go
// library. CycloneDX 1.6 is written (cyclonedx-go also writes 1.7): it is
// the version current scanners (syft, grype, trivy) and Dependency-Track
// read.
package sbom
