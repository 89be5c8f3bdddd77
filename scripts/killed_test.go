package scripts

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"dockertools.dev/testkit"
)

var killSoak = flag.Int("kill-soak", 0, "TestKilledBuildsLeaveNoPoison: kill each build this many times instead of the few of make test")

// TestKilledBuildsLeaveNoPoison kills incremental builds with SIGKILL
// (the whole process group, as the OOM killer of a job's cgroup or a
// timeout does) at seeded random points, now and then with the cache
// and the output emptied first so that the kills also land while they
// are filled, and now and then runs the build to its end: that build
// must give a fresh build's bytes (a half-written cache record, layer
// tar or blob is never taken for a whole one), and beside the outputs
// nothing may stay but the workflow's own temporary directories, which
// a SIGKILL cannot remove (README, "Under a CI runner's limits"): no
// .DIR.tmp-N once a later build into DIR ran, no DIR/.tmp-N once a later
// build with --layer-tars DIR ran. The points are seeded, not the
// machine's timing: the same seed kills at the same delays, which land
// in different places on a loaded machine. -kill-soak N kills N times,
// and adds gzip layers.
func TestKilledBuildsLeaveNoPoison(t *testing.T) {
	bin := testkit.BuildTools(t, tools...)
	kills := 6
	if *killSoak > 0 {
		kills = *killSoak
	}
	scripts := testkit.Abs(t, ".")
	path := bin + string(os.PathListSeparator) + scripts + string(os.PathListSeparator) + os.Getenv("PATH")
	base := []string{"--name", "t", "--tag", "v1", "--root", "root", "--plan", "plan.json"}
	for _, tc := range []struct {
		name  string
		out   string
		flags []string
	}{
		{"oci-dir", "out", []string{"--format", "oci-dir", "--cache", "cache"}},
		{"oci-dir-gzip", "out", []string{"--format", "oci-dir", "--layer-compression", "gzip", "--cache", "cache"}},
		{"layer-tars", "out.tar", []string{"--compressor", "none", "--cache", "cache", "--layer-tars", "tars"}},
	} {
		if tc.name == "oci-dir-gzip" && *killSoak == 0 {
			continue // the soak's: its paths are oci-dir's but for the compressor
		}
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			makeKillStore(t, dir)
			run := func(args ...string) *exec.Cmd {
				cmd := exec.Command(filepath.Join(scripts, "build-layered-image"), append(append([]string{}, base...), args...)...)
				cmd.Dir, cmd.Env = dir, append(os.Environ(), "PATH="+path)
				cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
				return cmd
			}
			clean := func(names ...string) {
				for _, n := range names {
					if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
						t.Fatal(err)
					}
				}
			}
			fresh := strings.Replace(tc.out, "out", "fresh", 1)
			noCache := []string{}
			for i := 0; i < len(tc.flags); i++ {
				if tc.flags[i] == "--cache" || tc.flags[i] == "--layer-tars" {
					i++
					continue
				}
				noCache = append(noCache, tc.flags[i])
			}
			if out, err := run(append(noCache, "-o", fresh)...).CombinedOutput(); err != nil {
				t.Fatalf("the fresh build: %v: %s", err, out)
			}
			// Run once uninterrupted to learn how long a build takes here.
			start := time.Now()
			if out, err := run(append(tc.flags, "-o", tc.out)...).CombinedOutput(); err != nil {
				t.Fatalf("a build: %v: %s", err, out)
			}
			span := time.Since(start)
			rnd := rand.New(rand.NewPCG(31, uint64(len(tc.name))))
			for i := range kills {
				if rnd.IntN(4) == 0 {
					clean("cache", "tars", tc.out)
				}
				cmd := run(append(tc.flags, "-o", tc.out)...)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(rnd.Int64N(int64(span))))
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				cmd.Wait()
				// Processes of the group may outlive their leader an
				// instant: wait for the group to be gone.
				for syscall.Kill(-cmd.Process.Pid, 0) == nil {
					time.Sleep(10 * time.Millisecond)
				}
				if i%2 == 0 && i != kills-1 {
					continue
				}
				if out, err := run(append(tc.flags, "-o", tc.out)...).CombinedOutput(); err != nil {
					t.Fatalf("kill %d: the build after it: %v: %s", i, err, out)
				}
				if diff := sameOutput(t, filepath.Join(dir, tc.out), filepath.Join(dir, fresh)); diff != "" {
					t.Fatalf("kill %d: the build after it differs from a fresh build: %s", i, diff)
				}
				if left := leftovers(t, dir); len(left) > 0 {
					t.Fatalf("kill %d: left after the build that followed: %v", i, left)
				}
			}
		})
	}
}

// makeKillStore writes a store of 12 paths of random bytes under
// dir/root and their plan, one layer each, as dir/plan.json.
func makeKillStore(t *testing.T, dir string) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(1, 2))
	var plan []string
	for i := range 12 {
		p := fmt.Sprintf("/nix/store/%032d-pkg%03d", i, i)
		data := make([]byte, 200000+5000*i)
		for j := range data {
			data[j] = byte(rnd.Uint32())
		}
		if err := os.MkdirAll(filepath.Join(dir, "root", p, "lib"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "root", p, "lib", "data"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, `["`+p+`"]`)
	}
	if err := os.WriteFile(filepath.Join(dir, "plan.json"), []byte("["+strings.Join(plan, ",")+"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sameOutput reports how the output got differs from the output want,
// a file or a directory (its files' bytes, modes and names); "" when it
// does not.
func sameOutput(t *testing.T, got, want string) string {
	t.Helper()
	if fi, err := os.Stat(want); err == nil && !fi.IsDir() {
		a, err := os.ReadFile(got)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			return "other bytes"
		}
		return ""
	}
	a, err := testkit.ReadDirTree(got)
	if err != nil {
		t.Fatal(err)
	}
	b, err := testkit.ReadDirTree(want)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(testkit.CompareTrees(a, b, testkit.CompareOptions{}), "; ")
}

// leftovers lists the hidden names in dir and in dir/tars that are not
// the workflow's own temporary directories.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var left []string
	for _, d := range []string{dir, filepath.Join(dir, "tars")} {
		entries, err := os.ReadDir(d)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(e.Name(), ".build-layered-image.") {
				left = append(left, filepath.Join(filepath.Base(d), e.Name()))
			}
		}
	}
	return left
}
