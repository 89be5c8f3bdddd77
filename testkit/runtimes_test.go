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
	dir := t.TempDir()
	record := filepath.Join(dir, "namespace")
	script := `need busybox
mkdir root/bin
exec sh -c 'cp "$(command -v busybox)" root/bin/busybox'
exec tar -C root -cf rootfs.tar .
mkimage -tag testkit/smoke:1 -cmd /bin/busybox -cmd true smoke.tar rootfs.tar
containerd-start
exec ctr images import smoke.tar
exec ctr run --rm --runc-root $CONTAINERD_RUNC_ROOT docker.io/testkit/smoke:1 c1
exec sh -c 'echo "$CONTAINERD_NAMESPACE" > ` + record + `'
exec sh -c 'for d in /sys/fs/cgroup/$CONTAINERD_NAMESPACE /sys/fs/cgroup/*/$CONTAINERD_NAMESPACE; do [ ! -d "$d" ] || echo "$d"; done'
stdout $CONTAINERD_NAMESPACE
`
	if err := os.WriteFile(filepath.Join(dir, "run.txtar"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	p := Params(dir, nil)
	maps.Copy(p.Cmds, ArchiveCommands())
	// The script is a parallel subtest: it has run, and cleaned up,
	// when the cleanups run.
	t.Cleanup(func() {
		ns, err := os.ReadFile(record)
		if err != nil {
			t.Fatalf("the script recorded no namespace: %v", err)
		}
		name := strings.TrimSpace(string(ns))
		left, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", name))
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", name)); err == nil {
			left = append(left, filepath.Join("/sys/fs/cgroup", name))
		}
		if len(left) > 0 {
			t.Fatalf("cgroups left after the script: %v", left)
		}
	})
	testscript.Run(t, p)
}

// TestContainerdStartStopsContainers: a container still running when the
// script ends (ctr run -d, or a script that failed) is stopped with its
// shim: the shim runs in a session of its own, which stopping containerd
// did not end, and the container and the shim ran on.
func TestContainerdStartStopsContainers(t *testing.T) {
	Need(t, "containerd", "busybox")
	const marker = "987654321" // the container's sleep, found in /proc
	dir := t.TempDir()
	record := filepath.Join(dir, "namespace")
	script := `need busybox
mkdir root/bin
exec sh -c 'cp "$(command -v busybox)" root/bin/busybox'
exec tar -C root -cf rootfs.tar .
mkimage -tag testkit/sleep:1 sleep.tar rootfs.tar
containerd-start
exec ctr images import sleep.tar
exec ctr run -d --runc-root $CONTAINERD_RUNC_ROOT docker.io/testkit/sleep:1 c1 /bin/busybox sleep ` + marker + `
exec ctr tasks ls
stdout 'c1 .*RUNNING'
exec sh -c 'echo "$CONTAINERD_NAMESPACE" > ` + record + `'
`
	if err := os.WriteFile(filepath.Join(dir, "run.txtar"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	p := Params(dir, nil)
	maps.Copy(p.Cmds, ArchiveCommands())
	t.Cleanup(func() {
		ns, err := os.ReadFile(record)
		if err != nil {
			t.Fatalf("the script recorded no namespace: %v", err)
		}
		shim := "-namespace\x00" + strings.TrimSpace(string(ns)) + "\x00"
		if left := killMatching("sleep\x00"+marker, shim); len(left) > 0 {
			t.Fatalf("the container or its shim still ran after the script: %v", left)
		}
	})
	testscript.Run(t, p)
}

// TestPodmanStartStopsContainers: a container still running when the
// script ends (podman run -d, a script that failed) is removed with its
// conmon, which podman leaves running in the background: they ran on
// after the script, in a directory removed under them.
func TestPodmanStartStopsContainers(t *testing.T) {
	Need(t, "podman", "busybox")
	const marker = "987654322" // the container's sleep, found in /proc
	dir := t.TempDir()
	record := filepath.Join(dir, "podman-dir")
	script := `need busybox
podman-start
mkdir root/bin
exec sh -c 'cp "$(command -v busybox)" root/bin/busybox'
exec tar -C root -cf rootfs.tar .
exec podman import rootfs.tar testkit-sleep:1
exec podman run -d testkit-sleep:1 /bin/busybox sleep ` + marker + `
exec podman ps --no-trunc
stdout 'sleep ` + marker + `'
exec sh -c 'dirname "$CONTAINERS_CONF" > ` + record + `'
`
	if err := os.WriteFile(filepath.Join(dir, "run.txtar"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pdir, err := os.ReadFile(record)
		if err != nil {
			t.Fatalf("the script recorded no podman directory: %v", err)
		}
		if left := killMatching("sleep\x00"+marker, strings.TrimSpace(string(pdir))+"/"); len(left) > 0 {
			t.Fatalf("the container or its conmon still ran after the script: %v", left)
		}
	})
	testscript.Run(t, Params(dir, nil))
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
