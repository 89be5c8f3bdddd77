package main

import (
	_ "embed"

	"dockertools.dev/imgkit/cli"
)

//go:embed doc.go
var manual string

func main() { cli.Main("close-fds", manual, &command{}) }
