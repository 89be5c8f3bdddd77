package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/oci"
)

// runPipeline is popularity --pipeline: the plan is what the pipeline
// makes of the graph, and --max is ignored, as nixpkgs ignores maxLayers
// when a layeringPipeline is given (Validate checked the flags). The
// pipeline is read and checked before the graph.
func (c *command) runPipeline(ctx context.Context, o *cli.IO) error {
	steps, err := c.readPipeline(o)
	if err != nil {
		return err
	}
	g, excluded, err := c.input(ctx, o)
	if err != nil {
		return err
	}
	walkSteps(steps, func(s *step, p string) {
		if len(s.iterates) > 0 {
			return // said once, below, not for each character
		}
		switch i, ok := slices.BinarySearch(g.paths, p); {
		case !ok:
			o.Debugf("--pipeline: step %s (%s): %q is not in the graph: ignored", s.at, s.name, p)
		case excluded[i]:
			o.Debugf("--pipeline: step %s (%s): %q is excluded (--exclude): ignored", s.at, s.name, p)
		}
	})
	noteIterated(steps, o)
	plan, err := runPipeline(ctx, g, excluded, steps)
	if errors.Is(err, errdefs.ErrInvalidInput) {
		return fmt.Errorf("--pipeline: %w", err) // a step nixpkgs fails in too
	}
	if err != nil {
		return err
	}
	// nixpkgs would build an image no runtime loads.
	if total := len(plan) + c.BaseLayers + 1; total > oci.RuntimeLayerLimit {
		return fmt.Errorf("--pipeline makes %d store layers: with %d base layers and the customisation layer the image has %d, more than the %d runtimes accept: %w",
			len(plan), c.BaseLayers, total, oci.RuntimeLayerLimit, errdefs.ErrTooManyLayers)
	}
	o.Debugf("--pipeline: %d store layers", len(plan))
	if err := c.write(o.Stdout, plan); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// readPipeline reads --pipeline: the pipeline itself when the value starts
// with "[", else the file holding it.
func (c *command) readPipeline(o *cli.IO) ([]*step, error) {
	if strings.HasPrefix(strings.TrimSpace(c.Pipeline), "[") {
		steps, err := parsePipeline([]byte(c.Pipeline))
		if err != nil {
			return nil, fmt.Errorf("--pipeline: %w", err)
		}
		return steps, nil
	}
	data, err := readPipelineFile(o, c.Pipeline)
	if err != nil {
		return nil, fmt.Errorf("--pipeline %q: %w", c.Pipeline, err)
	}
	steps, err := parsePipeline(data)
	if err != nil {
		return nil, fmt.Errorf("--pipeline %q: %w", c.Pipeline, err)
	}
	return steps, nil
}

// maxPipeline bounds a pipeline file: a pipeline is a few steps, and even
// one naming 100,000 store paths is 7 MB. /dev/zero is not read to the
// end of memory.
const maxPipeline = 16 << 20

func readPipelineFile(o *cli.IO, name string) ([]byte, error) {
	f, err := o.OpenNamed(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errdefs.ErrNotFound
	}
	if err != nil {
		return nil, cli.PathCause(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPipeline+1))
	if err != nil {
		return nil, cli.PathCause(err)
	}
	if len(data) > maxPipeline {
		return nil, fmt.Errorf("more than %d MiB, far more than a pipeline: %w", maxPipeline>>20, errdefs.ErrTooLarge)
	}
	return data, nil
}

// walkSteps calls visit with every store path the steps name.
func walkSteps(steps []*step, visit func(s *step, path string)) {
	for _, s := range steps {
		for _, p := range s.paths {
			visit(s, p)
		}
		for _, a := range s.split {
			visit(s, a.path)
		}
		walkSteps(s.steps, visit)
	}
}

// noteIterated says with -v where a string or an object stood for a list
// of paths: nixpkgs iterates it, and so does the pipeline here (pathList).
func noteIterated(steps []*step, o *cli.IO) {
	for _, s := range steps {
		for _, what := range s.iterates {
			o.Debugf("--pipeline: step %s (%s): %s where a list is due: taken as nixpkgs' Python takes it, a string as its characters, an object as its keys", s.at, s.name, what)
		}
		noteIterated(s.steps, o)
	}
}
