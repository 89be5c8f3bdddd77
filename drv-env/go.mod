module dockertools.dev/drv-env

go 1.26

require (
	dockertools.dev/imgkit v0.0.0
	golang.org/x/sys v0.47.0
)

require github.com/alecthomas/kong v1.17.0 // indirect

replace dockertools.dev/imgkit => ../imgkit
