package cli

import "strconv"

// MaxJobs bounds every tool's -j/--jobs. Each job holds buffers, a file or
// a connection, so an unbounded count exhausts memory before any work is
// done (closure-scan -j 100000000 grew to 24 GB); no tool gains from more:
// an image holds at most 125 layers, and 256 readers keep any disk busy.
// Help texts say it as ${max_jobs}.
const MaxJobs = 256

// CheckJobs returns a usage error unless least <= n <= MaxJobs.
func CheckJobs(n, least int) error {
	if n < least || n > MaxJobs {
		return Usagef("--jobs %d: want %d to %d", n, least, MaxJobs)
	}
	return nil
}

// helpVars are the variables help texts may use.
var helpVars = map[string]string{"max_jobs": strconv.Itoa(MaxJobs)}
