package testkit

import (
	"slices"
	"strings"
	"testing"
)

func TestRegistryWrites(t *testing.T) {
	log := strings.Join([]string{
		`127.0.0.1 - - [27/Nov/2026:16:08:08 +0000] "HEAD /v2/app/blobs/sha256:0f HTTP/1.1" 404 157 "" "ua"`,
		`time="2026" level=info msg="response completed" http.request.method=PUT`,
		`127.0.0.1 - - [27/Nov/2026:16:08:08 +0000] "PUT /v2/app/blobs/uploads/c881?_state=x&digest=sha256%3Abb HTTP/1.1" 201 0 "" "ua"`,
		`127.0.0.1 - - [27/Nov/2026:16:08:08 +0000] "PUT /v2/app/blobs/uploads/c882?_state=x&digest=sha256%3Aaa HTTP/1.1" 400 0 "" "ua"`,
		`127.0.0.1 - - [27/Nov/2026:16:08:08 +0000] "POST /v2/b/blobs/uploads/?from=app&mount=sha256%3Acc HTTP/1.1" 201 0 "" "ua"`,
		`127.0.0.1 - - [27/Nov/2026:16:08:08 +0000] "POST /v2/b/blobs/uploads/?from=app&mount=sha256%3Add HTTP/1.1" 202 0 "" "ua"`,
		`127.0.0.1 - - [27/Nov/2026:16:08:08 +0000] "PUT /v2/team/app/manifests/v1 HTTP/1.1" 201 0 "" "ua"`,
	}, "\n")
	got, err := RegistryWrites(strings.NewReader(log))
	want := []string{"manifest team/app:v1", "mount sha256:cc", "upload sha256:bb"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %q %v, want %q", got, err, want)
	}
}
