package testkit

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"slices"
	"strconv"
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
// needs no kernel overlay support, graph root and run root in DIR; a
// rootless podman reads rootless_storage_path instead of graphroot),
// containers.conf and registries.conf (no search registries: a short
// name never reaches the network), and a policy that accepts any image
// (the tests pull from their own loopback registry).
//
// Locks are files in tmp_dir (lock_type "file"): the default, shared
// memory, is the machine's one segment /dev/shm/libpod_lock (rootless,
// libpod_rootless_lock_UID), shared with every other podman and left
// behind, with any lock a failed script leaked in it.
//
// runc, not crun: Debian bookworm's crun refuses cgroups in hybrid mode
// ("drop all controllers from cgroupv2"), which runc runs under. The
// ulimits are pinned low: podman asks the runtime for the caller's
// limits, which a container may not be allowed to set (crun/runc
// setrlimit: operation not permitted).
func podmanConfigs(dir string) map[string]string {
	return map[string]string{
		"storage.conf": fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\nrootless_storage_path = %q\n",
			filepath.Join(dir, "root"), filepath.Join(dir, "run"), filepath.Join(dir, "root")),
		"containers.conf": fmt.Sprintf(`[containers]
netns = "none"
log_driver = "k8s-file"
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
lock_type = "file"
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
// directory is short, not in $WORK, which other users cannot enter.
//
// With -user NAME, podman is rootless: the directory is NAME's, and a
// podman command first on PATH runs the real one as NAME (setpriv), in
// that directory (rootless podman needs a working directory it may
// enter): archives go in on stdin, which the script opens. NAME needs
// subordinate ids (the subids command) for images with other owners
// than root.
func cmdPodmanStart(ts *testscript.TestScript, neg bool, args []string) {
	var user string
	if rest := flags(ts, "podman-start", args, func(fs *flag.FlagSet) { fs.StringVar(&user, "user", "", "") }); len(rest) != 0 {
		ts.Fatalf("usage: podman-start [-user NAME]")
	}
	cmdNeed(ts, false, []string{"podman"})
	dir, err := os.MkdirTemp("", "pdm")
	ts.Check(err)
	// vfs layers can hold read-only directories; make them removable.
	ts.Defer(func() {
		waitUnused(dir, 10*time.Second)
		exec.Command("chmod", "-R", "u+w", dir).Run()
		os.RemoveAll(dir)
	})
	for name, content := range podmanConfigs(dir) {
		file := filepath.Join(dir, name)
		ts.Check(os.MkdirAll(filepath.Dir(file), 0o755))
		ts.Check(os.WriteFile(file, []byte(content), 0o644))
	}
	for _, d := range []string{"tmp", "xdg", "home"} {
		ts.Check(os.MkdirAll(filepath.Join(dir, d), 0o700))
	}
	podman := "podman"
	if user != "" {
		podman = rootless(ts, dir, user)
	}
	env := podmanEnv(dir)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		ts.Setenv(k, v)
	}
	// Containers still running (podman run -d, a script that failed) are
	// removed, with their conmon, which podman leaves in the background
	// and which would run on in a directory removed under it. Deferred
	// last, so it runs first.
	ts.Defer(func() {
		rm := exec.Command(podman, "rm", "--all", "--force", "--time", "0")
		rm.Env = append(os.Environ(), env...)
		rm.Run()
	})
}

// podmanEnv is the environment that names podman's files in dir.
func podmanEnv(dir string) []string {
	return []string{
		"CONTAINERS_CONF=" + filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF=" + filepath.Join(dir, "storage.conf"),
		"CONTAINERS_REGISTRIES_CONF=" + filepath.Join(dir, "registries.conf"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_RUNTIME_DIR=" + filepath.Join(dir, "xdg"),
	}
}

// rootless gives dir to user and puts first on PATH a podman that runs
// the real one as user, in dir, with dir/home as HOME and dir/tmp as
// TMPDIR (the script's are in $WORK), and returns its path.
func rootless(ts *testscript.TestScript, dir, name string) string {
	cmdNeed(ts, false, []string{"setpriv", "uidmap"})
	u, err := osuser.Lookup(name)
	ts.Check(err)
	real, err := exec.LookPath("podman")
	ts.Check(err)
	bin := filepath.Join(dir, "bin")
	ts.Check(os.MkdirAll(bin, 0o755))
	wrapper := fmt.Sprintf("#!/bin/sh\ncd %s || exit 1\nHOME=%s TMPDIR=%s exec setpriv --reuid=%s --regid=%s --clear-groups %s \"$@\"\n",
		shQuote(dir), shQuote(filepath.Join(dir, "home")), shQuote(filepath.Join(dir, "tmp")), u.Uid, u.Gid, shQuote(real))
	ts.Check(os.WriteFile(filepath.Join(bin, "podman"), []byte(wrapper), 0o755))
	ts.Check(exec.Command("chown", "-R", u.Uid+":"+u.Gid, dir).Run())
	ts.Setenv("PATH", bin+string(os.PathListSeparator)+ts.Getenv("PATH"))
	// Rootless podman leaves a pause process holding its user namespace
	// (its pid in the tmp_dir); it would outlive the script. Deferred
	// after the directory's removal, so it runs first.
	ts.Defer(func() {
		if pid, err := os.ReadFile(filepath.Join(dir, "tmp", "pause.pid")); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(pid))); err == nil && n > 1 {
				syscall.Kill(n, syscall.SIGKILL)
			}
		}
	})
	return filepath.Join(bin, "podman")
}

// shQuote quotes s for sh: the work directory is under $TMPDIR, which
// may hold spaces or quotes.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
// dir, not $WORK: a unix socket's path is limited to 108 bytes. Two paths
// are containerd 1.6's own and stay shared: the shims' sockets in
// /run/containerd/s and ctr run's fifos in /run/containerd/fifo, each
// removed when its container is.
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
	cmd.SysProcAttr = serverAttr()
	ts.Check(cmd.Start())
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	ns := "dockertools-" + strings.TrimPrefix(filepath.Base(dir), "ctrd")
	sock := filepath.Join(dir, "sock")
	ts.Defer(func() {
		stopTasks(sock, ns)
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		os.RemoveAll(dir)
		removeCgroups(ns)
	})
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

// removeCgroups removes the cgroup name from every hierarchy: ctr run
// puts a container in /NAMESPACE/ID, and containerd removes ID with the
// container but never NAMESPACE, new for each script. rmdir removes an
// empty cgroup only: one whose container still runs is left.
func removeCgroups(name string) {
	dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", name))    // v1: one hierarchy per controller
	for _, d := range append(dirs, filepath.Join("/sys/fs/cgroup", name)) { // v2: one
		syscall.Rmdir(d)
	}
}

// stopTasks kills and deletes the containers still running in namespace
// ns (ctr run -d, a script that failed): each shim runs in a session of
// its own, which stopping containerd does not end; it ends when its task
// is deleted.
func stopTasks(sock, ns string) {
	ctr := func(args ...string) *exec.Cmd {
		return exec.Command("ctr", append([]string{"--address", sock, "--namespace", ns}, args...)...)
	}
	out, err := ctr("tasks", "ls", "--quiet").Output()
	if err != nil {
		return
	}
	for _, id := range strings.Fields(string(out)) {
		ctr("tasks", "delete", "--force", id).Run()
	}
}

// waitUnused waits, up to limit, until no process names dir in its
// command line: a container's conmon runs "podman container cleanup" in
// the background when the container ends, which writes in dir (its
// database, its image store) after podman rm has returned, and would
// make dir again as it is being removed.
func waitUnused(dir string, limit time.Duration) {
	mark := []byte(dir + "/")
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		if !slices.ContainsFunc(procs, func(f string) bool {
			b, _ := os.ReadFile(f)
			return bytes.Contains(b, mark)
		}) {
			return
		}
	}
}
