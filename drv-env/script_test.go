package main

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/testkit"
)

func TestMain(m *testing.M) {
	testkit.ToolMain(m, "drv-env", manual, func() cli.Runner { return &command{} })
}

func TestScripts(t *testing.T) { testscript.Run(t, testkit.Params("testdata/script", nil)) }
