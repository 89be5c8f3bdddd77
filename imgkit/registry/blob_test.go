package registry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"dockertools.dev/imgkit/errdefs"
)

func testBlob(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, uint64(n)))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// serverRepo is the repository test/img of srv, a test registry in plain
// HTTP.
func serverRepo(t *testing.T, srv *httptest.Server) name.Repository {
	t.Helper()
	repo, err := name.NewRepository(strings.TrimPrefix(srv.URL, "http://")+"/test/img", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

func fastClient(opts Options) *Client {
	opts.Backoff = time.Millisecond
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 5 * time.Second
	}
	return New(opts)
}

func TestBlob(t *testing.T) {
	const size = 1 << 20
	for _, tc := range []struct {
		name      string
		fault     *fault
		retries   int
		idle      time.Duration
		sizeKnown bool
		wantErr   error  // nil: the blob reads back whole
		wantRange string // a request the client must have made
	}{
		{name: "Plain", sizeKnown: true},
		{name: "SizeUnknown"},
		{name: "DroppedOnceResumesWithRange", fault: &fault{dropAfter: 300000}, sizeKnown: true, wantRange: "bytes=300000-"},
		{name: "DroppedThriceResumes", fault: &fault{dropAfter: 100000, dropTimes: 3}, sizeKnown: true, wantRange: "bytes=200000-"},
		{name: "RangeIgnoredRestartsAndSkips", fault: &fault{dropAfter: 5000, ignoreRange: true}, sizeKnown: true, wantRange: "bytes=5000-"},
		{name: "StalledBodyResumes", fault: &fault{stallAfter: 4096}, idle: 200 * time.Millisecond, sizeKnown: true, wantRange: "bytes=4096-"},
		{name: "ServerErrorsRetried", fault: &fault{status: []int{503, 502}}, sizeKnown: true},
		{name: "RangeAnsweredElsewhere", fault: &fault{dropAfter: 1000, badRange: true}, sizeKnown: true, wantErr: errdefs.ErrInvalidInput},
		{name: "DroppedForever", fault: &fault{dropAfter: 10, dropTimes: 1000}, retries: 2, sizeKnown: true, wantErr: io.ErrUnexpectedEOF},
		{name: "Corrupted", fault: &fault{corrupt: true}, sizeKnown: true, wantErr: errdefs.ErrDigestMismatch},
		{name: "CorruptedSizeUnknown", fault: &fault{corrupt: true}, wantErr: errdefs.ErrDigestMismatch},
		{name: "LongerThanAnnounced", fault: &fault{extra: 10}, sizeKnown: true, wantErr: errdefs.ErrDigestMismatch},
		{name: "LongerSizeUnknown", fault: &fault{extra: 10}, wantErr: errdefs.ErrDigestMismatch},
		{name: "Missing", fault: &fault{status: []int{404}}, sizeKnown: true, wantErr: errdefs.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newFakeRegistry(t)
			data := testBlob(size)
			d := reg.addBlob(data, tc.fault)
			c := fastClient(Options{Retries: tc.retries, IdleTimeout: tc.idle})
			want := int64(-1)
			if tc.sizeKnown {
				want = size
			}
			var got []byte
			br, err := c.Blob(context.Background(), reg.repo(), d, want)
			if err == nil {
				got, err = io.ReadAll(br)
				br.Close()
			}
			if !checkError(t, err, tc.wantErr) {
				return
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes that differ from the blob's %d", len(got), len(data))
			}
			if tc.wantRange != "" && !contains(reg.requests(), "GET /v2/test/img/blobs/"+d.String()+" "+tc.wantRange) {
				t.Errorf("no request with Range %s in %q", tc.wantRange, reg.requests())
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A reader must not report io.EOF before the digest is checked: a blob
// whose last bytes are wrong fails on the last Read, not later.
func TestBlobMismatchIsTheLastRead(t *testing.T) {
	reg := newFakeRegistry(t)
	data := testBlob(1000)
	d := reg.addBlob(data, &fault{corrupt: true})
	br, err := fastClient(Options{}).Blob(context.Background(), reg.repo(), d, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, br)
	if !errors.Is(err, errdefs.ErrDigestMismatch) || n != int64(len(data)) {
		t.Fatalf("copied %d bytes, error %v; want all bytes then a digest mismatch", n, err)
	}
	if _, err := br.Read(make([]byte, 1)); !errors.Is(err, errdefs.ErrDigestMismatch) {
		t.Fatalf("a Read after the mismatch returned %v", err)
	}
}

func TestBlobInterrupted(t *testing.T) {
	reg := newFakeRegistry(t)
	data := testBlob(1 << 16)
	d := reg.addBlob(data, &fault{stallAfter: 100})
	ctx, cancel := context.WithCancel(context.Background())
	br, err := fastClient(Options{IdleTimeout: time.Minute}).Blob(ctx, reg.repo(), d, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := io.ReadAll(br); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestBlobBasicAuth(t *testing.T) {
	const secret = "s3cr3t-pa55"
	for _, tc := range []struct {
		name    string
		creds   string
		wantErr error
	}{
		{"Right", "alice:" + secret, nil},
		{"WrongPassword", "alice:not-" + secret, ErrUnauthorized},
		{"NoCredentials", "", ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newFakeRegistry(t)
			reg.user, reg.pass = "alice", secret
			data := testBlob(100)
			d := reg.addBlob(data, nil)
			opts := Options{Keychain: emptyKeychain{}}
			if tc.creds != "" {
				a, err := ParseCreds(tc.creds)
				if err != nil {
					t.Fatal(err)
				}
				opts.Auth = a
			}
			br, err := fastClient(opts).Blob(context.Background(), reg.repo(), d, 100)
			if err == nil {
				_, err = io.ReadAll(br)
			}
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
}
