// Package graphplan reads and writes the JSON documents that flow between the
// tools: the closure graph (closure-scan → popularity) and the layer plan
// (popularity → layer-pack). docs/formats.md in the repository is the
// normative description; this package is its reference implementation.
//
// Writers are canonical: the same value always gives the same bytes, one
// record per line so that diffs and grep work. Readers are liberal in what
// they accept where Nix itself has several shapes.
package graphplan
