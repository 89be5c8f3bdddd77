package main

import (
	"testing"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/testkit"
)

const (
	shell = "/nix/store/yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy-b/bin/sh"
	drv   = "/nix/store/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-x.drv"
)

// Its usage errors, each with --show - (stdin) where a derivation is
// given, so a check left until after the input would wait on it.
var tool = testkit.Tool{Name: "drv-env", Manual: manual, New: func() cli.Runner { return &command{} },
	UsageErrors: [][]string{
		{"--shell", shell, "--show", "-"},
		{"-o", "out", "--show", "-"},
		{"-o", "out", "--shell", shell},
		{"-o", "out", "--shell", shell, "--show", "-", drv},
		{"-o", "out", "--shell", shell, "--command", "a", "--run", "b", "--show", "-"},
		{"-o", "out", "--shell", shell, "--uid=-1", "--show", "-"},
		{"-o", "out", "--shell", "sh", "--show", "-"},
		{"-o", "out", "--shell", shell, "--home-directory", "home", "--show", "-"},
		{"-o", "out", "--shell", shell, "--store-dir", "store", "--show", "-"},
	}}

func TestMain(m *testing.M)                   { tool.Main(m) }
func TestScripts(t *testing.T)                { tool.Scripts.Run(t) }
func TestUsageErrorsReadNoInput(t *testing.T) { tool.UsageErrorsReadNoInput(t) }
