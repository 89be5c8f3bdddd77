module dockertools.dev/tar-merge

go 1.26

require (
	dockertools.dev/imgkit v0.0.0
	github.com/klauspost/compress v1.20.4
	github.com/opencontainers/image-spec v1.1.1
	golang.org/x/sync v0.22.0
)

require (
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/rogpeppe/go-internal v1.16.0 // indirect
)

require (
	dockertools.dev/testkit v0.0.0-00010101000000-000000000000
	github.com/alecthomas/kong v1.17.0 // indirect
	github.com/ulikunitz/xz v0.5.17 // indirect
	golang.org/x/sys v0.47.0
	golang.org/x/tools v0.49.0 // indirect
)

replace dockertools.dev/imgkit => ../imgkit

replace dockertools.dev/testkit => ../testkit
