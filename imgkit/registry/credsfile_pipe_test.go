package registry

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
)

// TestCredsFileNamedPipeWriterGone: --creds-file /dev/fd/3 where
// descriptor 3 is a named pipe whose writer wrote its line and went, as
// the workflows' (creds_pipe) may before the tool starts. Opened again,
// a named pipe waits for a writer: the pull waited for ever. The line
// is read.
func TestCredsFileNamedPipeWriterGone(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "creds.pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			_, err = w.WriteString("alice:s3cret\n")
			w.Close()
		}
		wrote <- err
	}()
	r, err := os.Open(fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var auth authn.Authenticator
	go func() {
		var err error
		auth, err = ReadCredsFile(context.Background(), fmt.Sprintf("/proc/self/fd/%d", r.Fd()))
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("still opening the named pipe after 20s")
	}
	cfg, err := auth.Authorization()
	if err != nil || cfg.Username != "alice" || cfg.Password != "s3cret" {
		t.Errorf("got %+v, %v; want alice:s3cret", cfg, err)
	}
}
