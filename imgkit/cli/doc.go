// Package cli is the glue every tool's main goes through: kong parsing, the
// exit-status convention, one-line errors, signal handling and the manual.
//
// Exit status: 0 when stdout is complete; 1 for a runtime failure (bad data,
// I/O, a digest mismatch, an unsafe archive); 2 for a usage error (kong's own
// parse errors included). Errors are printed as one line, "tool: context: cause".
//
// A tool's manual is its package comment. The tool embeds its doc.go and
// passes it to Main, so `--help` shows the same words as `go doc`.
package cli
