package testkit

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Registry is a distribution registry server on a loopback port.
type Registry struct {
	Addr string // host:port
	Dir  string // storage root directory
	Log  string // the server's log file (one line per request)
	cmd  *exec.Cmd
	done chan struct{}
}

// RegistryOptions configure StartRegistry.
type RegistryOptions struct {
	// Htpasswd, when set, is a bcrypt htpasswd file: basic auth is required.
	Htpasswd string
	// Dir, when set, is the storage root (reused across restarts).
	Dir string
	// Addr, when set, is the host:port to listen on (for a restart).
	Addr string
}

// StartRegistry starts Debian's docker-registry in dir with the given
// options and waits until it answers /v2/. Stop it with Stop.
func StartRegistry(dir string, opts RegistryOptions) (*Registry, error) {
	if why := Missing("registry"); why != "" {
		return nil, fmt.Errorf("%s", why)
	}
	addr := opts.Addr
	if addr == "" {
		var err error
		if addr, err = freePort(); err != nil {
			return nil, err
		}
	}
	storage := opts.Dir
	if storage == "" {
		storage = filepath.Join(dir, "storage")
	}
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", storage, addr)
	if opts.Htpasswd != "" {
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: test\n    path: %s\n", opts.Htpasswd)
	}
	cfgFile := filepath.Join(dir, "registry.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	logFile := filepath.Join(dir, "registry.log")
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command("docker-registry", "serve", cfgFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = serverAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting docker-registry: %v", err)
	}
	r := &Registry{Addr: addr, Dir: storage, Log: logFile, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(r.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 || resp.StatusCode == 401 {
				return r, nil
			}
		}
		select {
		case <-r.done:
			return nil, fmt.Errorf("docker-registry exited at start: %s", lastLines(logFile, 3))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r.Stop()
			return nil, fmt.Errorf("docker-registry not ready after 30s: %s", lastLines(logFile, 3))
		}
	}
}

// Stop kills the server and waits for it.
func (r *Registry) Stop() {
	syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	<-r.done
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
