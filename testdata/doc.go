// Package testdata holds the workflow tests: scripts in workflows/*.txtar
// that run the POSIX sh workflows of scripts/ (build-layered-image,
// stream-layered-image, build-image, …) against real clients — docker load
// and run, skopeo, umoci, the registry, Nix — as DESIGN.md describes.
//
// TestWorkflows builds the nine tools once into a temporary bin directory
// (testkit.BuildTools); each script runs with that directory and scripts/
// first on PATH. Fixtures that
// can't live in txtar (binaries, modes, symlinks) are built at test time;
// fixtures/ holds the few that are committed (see README.md).
package testdata
