// Package scripts holds the workflow tests: scripts in
// testdata/script/*.txtar that run the POSIX sh workflows of this folder
// (build-layered-image, stream-layered-image, build-image, …) against real
// clients — docker load and run, skopeo, umoci, the registry, Nix — as
// DESIGN.md describes. They live next to the workflows they test, as each
// tool's scripts live next to the tool.
//
// TestWorkflows builds the tools once into a temporary bin directory
// (testkit.BuildTools); each script runs with that directory and this one
// first on PATH, $SCRIPTS naming this folder, $FIXTURES the committed
// fixtures (testdata/fixtures, see testdata/README.md) and $VECTORS the
// shared reference vectors (../testdata/vectors). The Nix tests (nix_*)
// have $REPO, the repository, $PREFIX, the tools and workflows laid out as
// make install lays them out (make install-workflows, then the built
// tools), and the go command's caches ($GOCACHE, $GOMODCACHE). Beside
// testkit's commands, sbom-components FILE prints a CycloneDX SBOM's
// components. Fixtures that can't live in txtar (binaries, modes,
// symlinks) are built at test time.
//
// The workflows' #!/bin/sh is whatever shell a machine has there, and Nix
// points it at bash. DOCKERTOOLS_TEST_SHELL, a shell's command line
// ("mksh", "bash --posix", "yash -o posix", "zsh --emulate sh", "busybox
// sh"), runs the scripts with the workflows run by that shell and sh on
// PATH that shell in its sh mode (withShell). TestWorkflowShells runs a
// chosen few scripts (shellScripts) under each shell users have as sh:
// dash, busybox's ash, bash (plain and POSIX), mksh, yash and zsh; a
// shell that is not installed skips its run, or fails it under
// REQUIRE_REAL_CLIENTS=1. TestWorkflowsASCII keeps the scripts ASCII
// (yash in the C locale reads no other byte).
package scripts
