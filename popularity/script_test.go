package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testkit.ToolMain(m, "popularity", manual, func() cli.Runner { return &command{} })
}

func TestScripts(t *testing.T) { testscript.Run(t, testkit.Params("testdata/script", nil)) }
