package testkit

import "testing"

func TestMain(m *testing.M) { Main(m) }

func TestScripts(t *testing.T) { Scripts{}.Run(t) }
