package testkit

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Docker is a Docker engine started for this test binary.
type Docker struct {
	Host string // the DOCKER_HOST value
	dir  string
	cmd  *exec.Cmd
}

var (
	dockerOnce sync.Once
	dockerInst *Docker
	dockerSkip string // why the kernel refused the engine, when it did
	dockerErr  error
)

// StartDocker starts (once per test binary) a private Docker engine with
// vfs storage and no networking, as DESIGN.md describes. It returns:
//   - the engine, when it runs;
//   - a non-empty skip reason when the engine is installed but the kernel
//     refuses it (namespaces, cgroups): docker checks skip with that reason;
//   - an error for anything else.
func StartDocker() (*Docker, string, error) {
	dockerOnce.Do(func() { dockerInst, dockerSkip, dockerErr = startDocker() })
	return dockerInst, dockerSkip, dockerErr
}

func startDocker() (*Docker, string, error) {
	if why := Missing("docker"); why != "" {
		return nil, "", fmt.Errorf("%s", why)
	}
	dir, err := os.MkdirTemp("", "dkr")
	if err != nil {
		return nil, "", err
	}
	return startEngine(dir, exec.Command("dockerd", "--storage-driver=vfs"))
}

// startEngine starts the dockerd of cmd (its program and the flags of its
// kind) in dir with the flags every engine of the tests has: its state in
// dir, no networking, a containerd namespace of its own.
func startEngine(dir string, cmd *exec.Cmd) (*Docker, string, error) {
	sock := filepath.Join(dir, "sock")
	ns := "dockertools-" + filepath.Base(dir)
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		return nil, "", err
	}
	cmd.Args = append(cmd.Args,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "x"),
		"--pidfile", filepath.Join(dir, "pid"),
		"-H", "unix://"+sock,
		"--iptables=false", "--ip6tables=false", "--bridge=none",
		"--containerd-namespace", ns, "--containerd-plugins-namespace", ns+"-plugins",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = serverAttr()
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("starting dockerd: %v", err)
	}
	d := &Docker{Host: "unix://" + sock, dir: dir, cmd: cmd}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	client := engineClient(sock)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get("http://docker/_ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case <-exited:
			return nil, dockerRefusal(dir), fmt.Errorf("dockerd exited at start: %s", lastLines(filepath.Join(dir, "log"), 3))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.stop(exited)
			return nil, dockerRefusal(dir), fmt.Errorf("dockerd not ready after 60s: %s", lastLines(filepath.Join(dir, "log"), 3))
		}
	}
	atExit(func() { d.stop(exited) })
	return d, "", nil
}

// engineClient is an HTTP client of the engine API served on the Unix
// socket sock (any host name in a URL: http://docker/_ping).
func engineClient(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
}

func (d *Docker) stop(exited chan struct{}) {
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	// vfs layers can hold read-only directories; make them removable.
	exec.Command("chmod", "-R", "u+w", d.dir).Run()
	os.RemoveAll(d.dir)
}

// dockerRefusal returns a one-line reason when dockerd's log shows that the
// kernel refused it what it needs, or "" when the failure is something else.
func dockerRefusal(dir string) string {
	log, _ := os.ReadFile(filepath.Join(dir, "log"))
	for _, line := range strings.Split(string(log), "\n") {
		l := strings.ToLower(line)
		if (strings.Contains(l, "level=fatal") || strings.Contains(l, "failed to start daemon")) &&
			(strings.Contains(l, "operation not permitted") || strings.Contains(l, "cgroup") || strings.Contains(l, "namespace")) {
			return "the kernel refused the Docker engine: " + strings.TrimSpace(line)
		}
	}
	return ""
}

func lastLines(file string, n int) string {
	data, _ := os.ReadFile(file)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// NeedDocker is StartDocker for Go tests: it skips t when docker is missing
// (fails it under REQUIRE_REAL_CLIENTS=1) or the kernel refuses the
// engine, and fails it when the engine does not start. The engine stops
// when the test binary ends (Tool.Main).
func NeedDocker(t testing.TB) *Docker {
	t.Helper()
	Need(t, "docker")
	d, refused, err := StartDocker()
	switch {
	case refused != "":
		t.Skipf("SKIP: %s", refused)
	case err != nil:
		t.Fatalf("docker: %v", err)
	}
	return d
}
