package main

import (
	"context"
	"errors"

	"dockertools.dev/imgkit/cli"
)

type command struct {
	cli.Common
}

func (c *command) Run(ctx context.Context, o *cli.IO) error {
	return errors.New("not implemented yet")
}
