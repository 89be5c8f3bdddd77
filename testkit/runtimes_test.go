package testkit

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestContainerdStartRemovesCgroups: ctr run puts a container in the
// cgroup /NAMESPACE/ID of every hierarchy; containerd removes ID with
// the container, never NAMESPACE. containerd-start's namespace is new
// for each script, so each script left /sys/fs/cgroup/*/dockertools-N
// behind, one more per run. It is removed when the script ends.
func TestContainerdStartRemovesCgroups(t *testing.T) {
	Need(t, "containerd", "busybox")
	afterScript(t, `mkimage -tag testkit/smoke:1 -cmd /bin/busybox -cmd true smoke.tar rootfs.tar
containerd-start
exec ctr images import smoke.tar
exec ctr run --rm --runc-root $CONTAINERD_RUNC_ROOT docker.io/testkit/smoke:1 c1
exec sh -c 'for d in /sys/fs/cgroup/$CONTAINERD_NAMESPACE /sys/fs/cgroup/*/$CONTAINERD_NAMESPACE; do [ ! -d "$d" ] || echo "$d"; done'
stdout $CONTAINERD_NAMESPACE
`, "$CONTAINERD_NAMESPACE", func(ns string) {
		left, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", ns))
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", ns)); err == nil {
			left = append(left, filepath.Join("/sys/fs/cgroup", ns))
		}
		if len(left) > 0 {
			t.Fatalf("cgroups left after the script: %v", left)
		}
	})
}

// TestContainerdStartStopsContainers: a container still running when the
// script ends (ctr run -d, or a script that failed) is stopped with its
// shim: the shim runs in a session of its own, which stopping containerd
// did not end, and the container and the shim ran on.
func TestContainerdStartStopsContainers(t *testing.T) {
	Need(t, "containerd", "busybox")
	const marker = "987654321" // the container's sleep, found in /proc
	afterScript(t, `mkimage -tag testkit/sleep:1 sleep.tar rootfs.tar
containerd-start
exec ctr images import sleep.tar
exec ctr run -d --runc-root $CONTAINERD_RUNC_ROOT docker.io/testkit/sleep:1 c1 /bin/busybox sleep `+marker+`
exec ctr tasks ls
stdout 'c1 .*RUNNING'
`, "$CONTAINERD_NAMESPACE", func(ns string) {
		if left := killMatching("sleep\x00"+marker, "-namespace\x00"+ns+"\x00"); len(left) > 0 {
			t.Fatalf("the container or its shim still ran after the script: %v", left)
		}
	})
}

// TestPodmanStartStopsContainers: a container still running when the
// script ends (podman run -d, a script that failed) is removed with its
// conmon, which podman leaves running in the background: they ran on
// after the script, in a directory removed under them.
func TestPodmanStartStopsContainers(t *testing.T) {
	Need(t, "podman", "busybox")
	const marker = "987654322" // the container's sleep, found in /proc
	afterScript(t, `podman-start
exec podman import rootfs.tar testkit-sleep:1
exec podman run -d testkit-sleep:1 /bin/busybox sleep `+marker+`
exec podman ps --no-trunc
stdout 'sleep `+marker+`'
`, `$(dirname "$CONTAINERS_CONF")`, func(dir string) {
		if left := killMatching("sleep\x00"+marker, dir+"/"); len(left) > 0 {
			t.Fatalf("the container or its conmon still ran after the script: %v", left)
		}
	})
}

// afterScript runs script, given rootfs.tar (busybox in /bin), and then
// check with the value the shell expression record had at its end, once
// the script has ended and its commands have cleaned up after it.
func afterScript(t *testing.T, script, record string, check func(recorded string)) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "recorded")
	script = `need busybox
mkdir root/bin
exec sh -c 'cp "$(command -v busybox)" root/bin/busybox'
exec tar -C root -cf rootfs.tar .
` + script + `exec sh -c 'echo "` + record + `" > "` + file + `"'
`
	if err := os.WriteFile(filepath.Join(dir, "run.txtar"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	p := Params(dir, nil)
	maps.Copy(p.Cmds, ArchiveCommands())
	// The script is a parallel subtest: it has run, and cleaned up,
	// when the cleanups run.
	t.Cleanup(func() {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("the script recorded nothing: %v", err)
		}
		check(strings.TrimSpace(string(b)))
	})
	testscript.Run(t, p)
}

// killMatching kills the processes whose command line holds any of
// marks (not to outlive the test), and returns their /proc directories.
func killMatching(marks ...string) []string {
	var left []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range procs {
		b, err := os.ReadFile(f)
		if err != nil || !slices.ContainsFunc(marks, func(m string) bool { return strings.Contains(string(b), m) }) {
			continue
		}
		left = append(left, filepath.Dir(f))
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return left
}

// TestPodmanStartRootlessQuotesPaths: the rootless podman command is a
// shell script naming podman-start's directory, which is under $TMPDIR;
// a TMPDIR with a space split the script's words (cd to the
// wrong place, setpriv given a stray argument) and no podman command ran.
func TestPodmanStartRootlessQuotesPaths(t *testing.T) {
	Need(t, "podman", "busybox")
	if os.Geteuid() != 0 {
		t.Skip("SKIP: rootless podman as another user needs root")
	}
	tmp, err := os.MkdirTemp("", "pdm sp")
	if err != nil {
		t.Fatal(err)
	}
	// Removed once the script, a parallel subtest, has run.
	t.Cleanup(func() { os.RemoveAll(tmp) })
	// nobody, who runs podman, must enter the directory made under it.
	if err := os.Chmod(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	afterScript(t, `subids nobody 400000:65536
podman-start -user nobody
stdin rootfs.tar
exec podman import - testkit-quoted:1
exec podman run --rm testkit-quoted:1 /bin/busybox echo container-ran
stdout '^container-ran$'
`, `$(dirname "$CONTAINERS_CONF")`, func(dir string) {
		if !strings.HasPrefix(dir, tmp+"/") {
			t.Fatalf("podman-start's directory %q is not under TMPDIR %q", dir, tmp)
		}
	})
}
