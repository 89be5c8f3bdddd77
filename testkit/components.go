package testkit

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// RequireReal reports whether missing components must fail tests
// (REQUIRE_REAL_CLIENTS=1) rather than skip them.
func RequireReal() bool { return os.Getenv("REQUIRE_REAL_CLIENTS") == "1" }

// componentBinaries lists, per component, the programs it needs on PATH.
var componentBinaries = map[string][]string{
	"docker":   {"dockerd", "docker"},
	"registry": {"docker-registry"},
	"nix":      {"nix-build", "nix-store", "nix"},
	"skopeo":   {"skopeo"},
	"umoci":    {"umoci"},
	"fakeroot": {"fakeroot", "faked-sysv"},
	"proot":    {"proot"},
	"htpasswd": {"htpasswd"},
	"unshare":  {"unshare"},
	"busybox":  {"busybox"},
	"python3":  {"python3"},
	"gnutar":   {"tar"},
	"flock":    {"flock"},
	"setfacl":  {"setfacl"},
	"bash":     {"bash"},
	// The POSIX shells besides dash (Debian's /bin/sh), busybox's ash
	// and bash that users run the workflows with (scripts' shell tests).
	"dash": {"dash"},
	"mksh": {"mksh"},
	"yash": {"yash"},
	"zsh":  {"zsh"},
	// strace shows which system calls moved the bytes (the kernel copies:
	// splice, copy_file_range, or read and write).
	"strace":  {"strace"},
	"setpriv": {"setpriv"},
	"uidmap":  {"newuidmap", "newgidmap"},
	// bwrap --disable-userns (bubblewrap 0.8 and later) lets a test see a
	// machine that refuses user namespaces without touching host sysctls.
	"bwrap": {"bwrap"},
	"go":    {"go"},
	// xz writes the xz files the xz reader is compared on (presets, check
	// types, blocks) besides the library's.
	"xz": {"xz"},
	// syft reads the SBOMs back (syft convert): no Debian package;
	// scripts/install-test-deps builds it with go install.
	"syft": {"syft"},
	// oras, the OCI artifact client, lists the referrers we attach (oras
	// discover) and copies an image with them into a layout (oras cp -r):
	// no Debian package; scripts/install-test-deps builds it too.
	"oras": {"oras"},
	// The runtimes besides Docker that users load our images into:
	// podman runs containers with runc (see podmanConfigs), containerd
	// with its runc shim.
	"podman":     {"podman", "runc", "conmon"},
	"containerd": {"containerd", "ctr", "containerd-shim-runc-v2", "runc"},
	"zstd":       {"zstd"},
}

// Missing returns why component cannot be used here, or "" when it can.
func Missing(component string) string {
	if component == "docker-store" {
		return missingDockerStore()
	}
	bins, ok := componentBinaries[component]
	if !ok {
		return fmt.Sprintf("unknown component %q", component)
	}
	var absent []string
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			absent = append(absent, b)
		}
	}
	if len(absent) > 0 {
		return fmt.Sprintf("%s is not installed (no %s on PATH; scripts/install-test-deps installs it)", component, strings.Join(absent, ", "))
	}
	if component == "busybox" {
		if why := dynamicBusybox(); why != "" {
			return why
		}
	}
	if component == "nix" && os.Geteuid() != 0 && os.Getenv("NIX_REMOTE") == "" {
		return "nix is installed but these tests build into /nix/store without a daemon, which needs root"
	}
	return ""
}

// dynamicBusybox says why the busybox on PATH cannot serve, or "": the
// tests copy it into images that hold no C library, where a dynamically
// linked one fails as "execvp /bin/sh: No such file or directory" (Debian's
// busybox package replaces busybox-static when installed).
func dynamicBusybox() string {
	path, err := exec.LookPath("busybox")
	if err != nil {
		return ""
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Sprintf("busybox at %s is not an ELF program the tests can copy into an image: %v", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Sprintf("busybox at %s is dynamically linked (Debian's busybox, not busybox-static); the tests copy it into images without a C library: scripts/install-test-deps installs busybox-static", path)
		}
	}
	return ""
}

// Need skips the test when a component is missing, or fails it when
// REQUIRE_REAL_CLIENTS=1.
func Need(t testing.TB, components ...string) {
	t.Helper()
	for _, c := range components {
		if why := Missing(c); why != "" {
			if RequireReal() {
				t.Fatalf("REQUIRE_REAL_CLIENTS=1: %s", why)
			}
			t.Skipf("SKIP: %s", why)
		}
	}
}

// nixSettings are every Nix setting the tests rely on, pinned so that a
// fresh machine and a used one behave alike: no substituters (there is no
// network), the nix command enabled, no build users (a fresh machine has no
// nixbld group, and Nix as root refuses to build without the group it
// names) and no sandbox (which Nix turns on once build users exist, and
// where the builders' /bin/busybox is absent). NIX_CONFIG overrides
// whatever /etc/nix/nix.conf says.
var nixSettings = []string{
	"substituters =",
	"experimental-features = nix-command",
	"build-users-group =",
	"sandbox = false",
}

// NixEnv is the environment Nix needs in tests: NIX_CONFIG holding
// nixSettings.
func NixEnv() []string {
	return []string{"NIX_CONFIG=" + strings.Join(nixSettings, "\n")}
}

var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

// atExit registers work for Cleanup.
func atExit(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

// Cleanup stops every process-wide component (the Docker engine) started by
// this test binary. Call it from TestMain after the tests have run.
func Cleanup() {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
}
