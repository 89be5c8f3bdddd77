package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// The container runtimes other than Docker that users load our images
// into, each started privately per script: every setting the tests rely
// on is written into the script's own files, so that neither this
// machine's /etc/containers nor /var/lib/containerd (or their absence on
// a fresh machine) can change what a test sees.

// podmanConfigs are podman's files, pinned: storage.conf (vfs, which
// needs no kernel overlay support, graph root and run root in DIR),
// containers.conf and registries.conf (no search registries: a short
// name never reaches the network), and a policy that accepts any image
// (the tests pull from their own loopback registry).
//
// runc, not crun: Debian bookworm's crun refuses cgroups in hybrid mode
// ("drop all controllers from cgroupv2"), which runc runs under. The
// ulimits are pinned low: podman asks the runtime for the caller's
// limits, which a container may not be allowed to set (crun/runc
// setrlimit: operation not permitted).
func podmanConfigs(dir string) map[string]string {
	return map[string]string{
		"storage.conf": fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n",
			filepath.Join(dir, "root"), filepath.Join(dir, "run")),
		"containers.conf": fmt.Sprintf(`[containers]
netns = "none"
log_driver = "k8s-file"
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %q
tmp_dir = %q
image_copy_tmp_dir = %q
static_dir = %q
volume_path = %q
`, filepath.Join(dir, "events.log"), filepath.Join(dir, "tmp"), filepath.Join(dir, "tmp"),
			filepath.Join(dir, "root", "libpod"), filepath.Join(dir, "root", "volumes")),
		"registries.conf":               "unqualified-search-registries = []\n",
		"config/containers/policy.json": `{"default":[{"type":"insecureAcceptAnything"}]}` + "\n",
	}
}

// cmdPodmanStart gives the rest of the script a private podman: its
// configuration files and storage in a temp dir of its own, and the
// environment that names them (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF,
// CONTAINERS_REGISTRIES_CONF, XDG_CONFIG_HOME for the policy,
// XDG_RUNTIME_DIR). podman has no daemon: each command reads these. The
// directory is short, not in $WORK: under a long path conmon never
// reports the container's exit, and each podman run waits out its 20
// seconds.
func cmdPodmanStart(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 0 {
		ts.Fatalf("usage: podman-start")
	}
	cmdNeed(ts, false, []string{"podman"})
	dir, err := os.MkdirTemp("", "pdm")
	ts.Check(err)
	// vfs layers can hold read-only directories; make them removable.
	ts.Defer(func() {
		exec.Command("chmod", "-R", "u+w", dir).Run()
		os.RemoveAll(dir)
	})
	for name, content := range podmanConfigs(dir) {
		file := filepath.Join(dir, name)
		ts.Check(os.MkdirAll(filepath.Dir(file), 0o755))
		ts.Check(os.WriteFile(file, []byte(content), 0o644))
	}
	for _, d := range []string{"tmp", "xdg"} {
		ts.Check(os.MkdirAll(filepath.Join(dir, d), 0o700))
	}
	ts.Setenv("CONTAINERS_CONF", filepath.Join(dir, "containers.conf"))
	ts.Setenv("CONTAINERS_STORAGE_CONF", filepath.Join(dir, "storage.conf"))
	ts.Setenv("CONTAINERS_REGISTRIES_CONF", filepath.Join(dir, "registries.conf"))
	ts.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	ts.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "xdg"))
}

// containerdConfig is containerd's whole configuration: root, state and
// sockets in dir, no CRI (it would want CNI), no opt plugin (it would
// write /opt/containerd), no debug or metrics listener, and only the
// snapshotters that need nothing from the kernel or the file system
// besides native (which the scripts use: CONTAINERD_SNAPSHOTTER).
func containerdConfig(dir string) string {
	return fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = %q
[ttrpc]
  address = %q
[debug]
  address = ""
[metrics]
  address = ""
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), filepath.Join(dir, "sock"), filepath.Join(dir, "sock.ttrpc"))
}

// cmdContainerdStart starts a containerd for the rest of the script and
// points ctr at it (CONTAINERD_ADDRESS, CONTAINERD_NAMESPACE,
// CONTAINERD_SNAPSHOTTER=native), and sets $CONTAINERD_RUNC_ROOT for ctr
// run --runc-root (ctr reads no variable for it; without, runc keeps its
// state in /run/containerd/runc/NAMESPACE). Its directory is a short temp
// dir, not $WORK: a unix socket's path is limited to 108 bytes.
func cmdContainerdStart(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 0 {
		ts.Fatalf("usage: containerd-start")
	}
	cmdNeed(ts, false, []string{"containerd"})
	dir, err := os.MkdirTemp("", "ctrd")
	ts.Check(err)
	cfg := filepath.Join(dir, "config.toml")
	ts.Check(os.WriteFile(cfg, []byte(containerdConfig(dir)), 0o644))
	logFile := filepath.Join(dir, "log")
	logf, err := os.Create(logFile)
	ts.Check(err)
	defer logf.Close()
	cmd := exec.Command("containerd", "--config", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Pdeathsig stops the server if the test binary dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	ts.Check(cmd.Start())
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	ts.Defer(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		os.RemoveAll(dir)
	})
	sock := filepath.Join(dir, "sock")
	ns := "dockertools-" + strings.TrimPrefix(filepath.Base(dir), "ctrd")
	deadline := time.Now().Add(30 * time.Second)
	for {
		// ctr version answers once the gRPC server serves.
		probe := exec.Command("ctr", "--address", sock, "version")
		if probe.Run() == nil {
			break
		}
		select {
		case <-exited:
			ts.Fatalf("containerd-start: containerd exited at start: %s", lastLines(logFile, 3))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			ts.Fatalf("containerd-start: containerd not ready after 30s: %s", lastLines(logFile, 3))
		}
	}
	ts.Setenv("CONTAINERD_ADDRESS", sock)
	ts.Setenv("CONTAINERD_NAMESPACE", ns)
	ts.Setenv("CONTAINERD_SNAPSHOTTER", "native")
	ts.Setenv("CONTAINERD_LOG", logFile)
	ts.Setenv("CONTAINERD_RUNC_ROOT", filepath.Join(dir, "runc"))
}
