module dockertools.dev/scripts

go 1.26

replace dockertools.dev/imgkit => ../imgkit

require (
	github.com/rogpeppe/go-internal v1.16.0
	golang.org/x/net v0.61.0
)

require (
	dockertools.dev/imgkit v0.0.0-00010101000000-000000000000 // indirect
	github.com/alecthomas/kong v1.17.0 // indirect
)

require (
	dockertools.dev/testkit v0.0.0-00010101000000-000000000000
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/ulikunitz/xz v0.5.17 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/tools v0.49.0 // indirect
)

replace dockertools.dev/testkit => ../testkit
