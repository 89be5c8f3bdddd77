// Package testkit is what every tool's tests share: testscript parameters
// and commands, tar fixtures built from text specs, and the real components
// (Docker engine, podman, containerd, registry, Nix, skopeo, umoci,
// fakeroot, proot) that tests start themselves. It is a module of its own,
// dockertools.dev/testkit (with storegen, the generated stores of tests and benchmarks, and
// cmd/testsum, make test's summary), so that imgkit holds only what the
// tools ship: imgkit's own tests import it, none of its packages does.
//
// # A tool's tests
//
// A tool's script_test.go declares it once, as a Tool: its name, manual
// and command struct, the Scripts its testdata/script needs (the tools it
// builds, the folders it puts on PATH, the variables naming folders, the
// command sets it adds) and command lines that are usage errors. Tool.Main
// is its TestMain (the test binary doubles as the tool for `exec NAME`),
// Scripts.Run its TestScripts, and Tool.UsageErrorsReadNoInput checks that
// its usage errors come before any input is read. The workflow tests in
// scripts/ use Main and Scripts the same way.
//
// # Real components
//
// A test that needs a component asks for it with Need (Go tests) or the
// command need (scripts). A missing component skips the test with
// a line saying what is missing; with REQUIRE_REAL_CLIENTS=1 (as in CI) it
// fails it instead. The one exception is a Docker engine that is installed
// but that the kernel will not let start: the docker checks then skip with
// the reason, in CI too.
//
// # Script commands
//
//	mktar [-format gnu|pax|ustar] [-compress gzip|zstd|xz] SPEC OUT
//	    builds a tar from a text spec, one entry per line:
//	        TYPE MODE UID:GID NAME [ARG] [key=value...]
//	    TYPE is d (directory), f (file: ARG is a Go-quoted content string,
//	    or size=N for N deterministic pseudo-random bytes, or zeros=N for
//	    N zero bytes, which compress to almost nothing), l (symlink: ARG
//	    is the target), h (hardlink: ARG is the target), c or b (device:
//	    ARG is MAJOR:MINOR), p (fifo). Keys: mtime=SECONDS, uname=, gname=,
//	    xattr.NAME=VALUE (an extended attribute: a SCHILY.xattr.NAME record;
//	    VALUE may be Go-quoted, without blanks: "\x01\x00").
//	    NAME and ARG may be Go-quoted. # starts a comment line.
//	tarls [-sum] [-member NAME]... FILE
//	    lists a tar (any compression) one entry per line:
//	        TYPE MODE UID:GID SIZE NAME [-> LINK]
//	    TYPE is mktar's letter, or s for a sparse file (GNU 'S' or PAX
//	    GNU.sparse.* records), whose SIZE is its apparent size.
//	    -sum adds the first 12 hex digits of each file's sha256; each
//	    -member descends into a tar stored as that member.
//	tarcat [-member NAME]... FILE MEMBER
//	    prints the content of one member.
//	registry-start [-htpasswd FILE]
//	    starts a registry for this script; sets $REGISTRY (host:port),
//	    $REGISTRY_DIR (its storage) and $REGISTRY_LOG.
//	check-image [-oci] FILE
//	    skopeo copies the archive into an OCI layout (verifying every
//	    digest) and umoci unpacks it.
//	need COMPONENT...
//	    skips the script (fails it under REQUIRE_REAL_CLIENTS=1) unless
//	    every component is usable.
//	docker-start [-containerd-store]
//	    starts (or reuses) this test binary's Docker engine and sets
//	    $DOCKER_HOST; with -containerd-store, its engine with the
//	    containerd image store (component docker-store: see
//	    StartDockerStore).
//	podman-start [-user NAME]
//	    gives the script a private podman (vfs storage, runc, no network,
//	    no search registries, file locks, all in a temp dir of its own) through the
//	    CONTAINERS_* variables; with -user, a rootless one run as NAME
//	    (give NAME subids first; archives go in on stdin). Containers
//	    still running when the script ends are removed.
//	containerd-start
//	    starts a containerd for this script (private root, state and
//	    socket, native snapshotter) and sets $CONTAINERD_ADDRESS,
//	    $CONTAINERD_NAMESPACE and $CONTAINERD_SNAPSHOTTER for ctr,
//	    $CONTAINERD_RUNC_ROOT for ctr run --runc-root, and $CONTAINERD_LOG.
//	    Tasks still running when the script ends are deleted, and the
//	    namespace's cgroups removed.
//	subids USER START:COUNT
//	    gives USER that subordinate id range in /etc/subuid and
//	    /etc/subgid until the script ends (root only; scripts that do it
//	    take turns).
//
// Conditions: [root] (the tests run as root); [portable] (a build with
// the tag dockertools_portable, imgkit/internal/offlinux).
//
// Further command sets, added to a package's Scripts.Cmds where it needs
// them (each documented in its file):
//
//	ArchiveCommands  mkimage (image archives from layer tars), tardiff
//	                 (compare two rootfs tars, optionally as docker export
//	                 sees them), dockersave (what docker save of a
//	                 multi-platform image writes with the containerd image
//	                 store)
//	ProxyCommands    registry-proxy (a registry behind a proxy that cuts
//	                 a blob download, stops or restarts the registry)
//	FrontCommands    registry-front (bearer-token auth, tokens that
//	                 expire, TLS, delays in front of a registry)
//	PushCommands     registry-writes (count the writes in the registry
//	                 log), upload-proxy (cut or refuse uploads)
//	ArgvCommands     argv-watch, argv-seen (which programs' command
//	                 lines, world-readable in /proc, held a secret while
//	                 a command ran)
//
// # Fuzz targets
//
// The fuzz targets (make fuzz) seed their corpora from the testscript
// fixtures: Fixtures and FixturesNamed give their files, FixtureTars the
// tars their mktar specs make, AddLayerPairs adds those as (lower, upper)
// layers. CheckError checks what a refusal must be (one line, of an
// errdefs class); ImageOf and LayerImage build an image archive around
// fuzzed layers.
package testkit
