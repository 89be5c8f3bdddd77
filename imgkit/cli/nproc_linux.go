package cli

import (
	"bytes"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Under a low limit on processes (RLIMIT_NPROC, ulimit -u), which counts
// every thread of every process of the user, a Go program that cannot
// start a thread dies with the runtime's own message and a stack of
// every goroutine ("runtime: failed to create new OS thread", "fatal
// error: newosproc"). The first thread the tools start past the
// runtime's own is os/signal's, in Process: before it, threadRoom says
// how many more the user may start, and Process stops with one line when
// that is too few, or lowers GOMAXPROCS (how many threads run Go code at
// once) to what fits. A limit too low for the runtime itself (1 or 2
// threads) still ends in its message: no code of the tool runs first.
//
// minThreads is the fewest threads a tool is given: popularity ranking
// 100,000 paths with GOMAXPROCS=1 needed 6 (the runtime's, the signal
// handler's, and those of blocking calls), and a thread more is kept
// for each job waiting in a system call.
const minThreads = 8

// lowNproc is the limit below which threadRoom counts the user's threads:
// a scan of /proc at each start, spared under the usual limits (tens of
// thousands, or none).
const lowNproc = 4096

// threadRoom returns how many threads this process may have in all (its
// own and those the user may still start) and the limit, when the limit
// is low enough to count; ok false otherwise, or for root, whom the
// kernel does not limit.
func threadRoom() (room int, limit uint64, ok bool) {
	uid := os.Getuid()
	var lim unix.Rlimit
	if uid == 0 || unix.Getrlimit(unix.RLIMIT_NPROC, &lim) != nil || lim.Cur == unix.RLIM_INFINITY || lim.Cur >= lowNproc {
		return 0, 0, false
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, false
	}
	used, own := 0, 0
	self := strconv.Itoa(os.Getpid())
	for _, p := range procs {
		if p.Name()[0] < '0' || p.Name()[0] > '9' {
			continue
		}
		ruid, threads, ok := procThreads(p.Name())
		if !ok || ruid != uid {
			continue
		}
		used += threads
		if p.Name() == self {
			own = threads
		}
	}
	return int(lim.Cur) - used + own, lim.Cur, true
}

// procThreads reads the real user id and the thread count of process pid.
func procThreads(pid string) (ruid, threads int, ok bool) {
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, 0, false
	}
	var haveUID, haveThreads bool
	for line := range bytes.SplitSeq(status, []byte("\n")) {
		k, v, found := bytes.Cut(line, []byte(":"))
		if !found {
			continue
		}
		switch string(k) {
		case "Uid":
			f := bytes.Fields(v)
			if len(f) > 0 {
				ruid, err = strconv.Atoi(string(f[0]))
				haveUID = err == nil
			}
		case "Threads":
			threads, err = strconv.Atoi(string(bytes.TrimSpace(v)))
			haveThreads = err == nil
		}
	}
	return ruid, threads, haveUID && haveThreads
}

// fitThreads applies threadRoom: "" when the tool may run (GOMAXPROCS
// lowered to fit if need be), else the line that says why it cannot.
func fitThreads() string {
	room, limit, ok := threadRoom()
	if !ok {
		return ""
	}
	if room < minThreads {
		return "the limit on processes (ulimit -u " + strconv.FormatUint(limit, 10) + ", every thread of the user's processes) leaves room for " +
			strconv.Itoa(max(room, 0)) + " threads, fewer than the " + strconv.Itoa(minThreads) + " a tool needs: raise it, or run fewer processes as this user"
	}
	runtime.GOMAXPROCS(min(runtime.GOMAXPROCS(0), room-minThreads+1))
	return ""
}
