module dockertools.dev/layer-pack

go 1.26

require dockertools.dev/imgkit v0.0.0

require (
	github.com/alecthomas/kong v1.17.0 // indirect
	golang.org/x/sys v0.47.0
)

replace dockertools.dev/imgkit => ../imgkit
