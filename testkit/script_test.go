package testkit

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) { Main(m, nil) }

func TestScripts(t *testing.T) { testscript.Run(t, Params("testdata/script", nil)) }
