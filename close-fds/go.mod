module dockertools.dev/close-fds

go 1.26

require (
	dockertools.dev/imgkit v0.0.0
	dockertools.dev/testkit v0.0.0-00010101000000-000000000000
	golang.org/x/sys v0.47.0
)

require (
	github.com/alecthomas/kong v1.17.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/rogpeppe/go-internal v1.16.0 // indirect
	github.com/ulikunitz/xz v0.5.17 // indirect
	golang.org/x/tools v0.49.0 // indirect
)

replace dockertools.dev/imgkit => ../imgkit

replace dockertools.dev/testkit => ../testkit
