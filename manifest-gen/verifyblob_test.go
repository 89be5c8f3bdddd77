package main

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
)

// TestVerifyBlobFIFO: --verify hashing a blob that is a FIFO waited in
// open(2) for a writer, for ever (deaf to SIGTERM); it is refused at once
// as not a regular file.
func TestVerifyBlobFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "blob")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- verifyBlob(fifo, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "remedy")
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errdefs.ErrInvalidInput) || err.Error() != "not a regular file: remedy: invalid input" {
			t.Fatalf("error %v, want \"not a regular file: remedy: invalid input\"", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still opening the FIFO after 5 s")
	}
}
