module dockertools.dev/manifest-gen

go 1.26

require (
	dockertools.dev/imgkit v0.0.0
	github.com/opencontainers/image-spec v1.1.1
	github.com/rogpeppe/go-internal v1.16.0
)

require (
	dockertools.dev/testkit v0.0.0-00010101000000-000000000000
	github.com/CycloneDX/cyclonedx-go v0.12.0 // indirect
	github.com/alecthomas/kong v1.17.0 // indirect
	github.com/anchore/go-struct-converter v0.1.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/package-url/packageurl-go v0.1.7 // indirect
	github.com/santhosh-tekuri/jsonschema/v5 v5.3.1 // indirect
	github.com/spdx/tools-golang v0.5.7 // indirect
	github.com/ulikunitz/xz v0.5.17 // indirect
	golang.org/x/sys v0.47.0
	golang.org/x/tools v0.49.0 // indirect
)

replace dockertools.dev/imgkit => ../imgkit

replace dockertools.dev/testkit => ../testkit
