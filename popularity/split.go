package main

import "dockertools.dev/imgkit/graphplan"

// splitClassic is nixpkgs' classic split of a popularity list into at most
// available store layers (reference §6.2): the available−1 most popular
// paths one per layer, then one layer with the rest in order. Fewer paths
// than layers gives one layer per path and no empty layer (nixpkgs' G2
// pipeline fails there instead).
func splitClassic(paths []string, available int) graphplan.Plan {
	singles := min(available-1, len(paths))
	plan := make(graphplan.Plan, 0, singles+1)
	for _, p := range paths[:singles] {
		plan = append(plan, []string{p})
	}
	if rest := paths[singles:]; len(rest) > 0 {
		plan = append(plan, rest)
	}
	return plan
}
