package main

import (
	"fmt"

	"dockertools.dev/imgkit/cli"
)

// printBaseLayers prints the number of layers of the --from-image base
// image. Workflows need it before any layer is packed: popularity
// --base-layers takes it to keep the whole image within --max-layers
// (nixpkgs runs jq '.[0].Layers | length' on the base manifest), and only
// this tool reads base images in every storage and compression.
func (c *command) printBaseLayers(o *cli.IO) error {
	base, err := openBase(c.FromImage, c.FromImageName, c.FromImageTag)
	if err != nil {
		return err
	}
	defer base.close()
	if _, err := fmt.Fprintln(o.Stdout, len(base.layers)); err != nil {
		return fmt.Errorf("writing the layer count: %w", err)
	}
	return nil
}
