package cli

import (
	"bytes"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Under a low limit on processes (RLIMIT_NPROC, ulimit -u), which counts
// every thread of every process of the user, or on the tasks of its
// cgroup (the pids controller's pids.max), a Go program that cannot
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
// own and those it may still start) under the limit that leaves the
// fewest, and that limit, said for a message; ok false when no limit is
// low enough to count.
func threadRoom() (room int, limit string, ok bool) {
	own := ownThreads()
	if r, max, ok2 := pidsRoom(own); ok2 {
		room, limit, ok = r, "the cgroup's limit on tasks (pids.max "+strconv.Itoa(max)+")", true
	}
	if r, max, ok2 := nprocRoom(own); ok2 && (!ok || r < room) {
		room, limit, ok = r, "the limit on processes (ulimit -u "+strconv.FormatUint(max, 10)+", every thread of the user's processes)", true
	}
	return room, limit, ok
}

// nprocRoom is threadRoom under RLIMIT_NPROC, when it is low enough to
// count the user's threads; never for root, whom the kernel does not
// limit so.
func nprocRoom(own int) (room int, limit uint64, ok bool) {
	uid := os.Getuid()
	var lim unix.Rlimit
	if uid == 0 || unix.Getrlimit(unix.RLIMIT_NPROC, &lim) != nil || lim.Cur == unix.RLIM_INFINITY || lim.Cur >= lowNproc {
		return 0, 0, false
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, false
	}
	used := 0
	for _, p := range procs {
		if p.Name()[0] < '0' || p.Name()[0] > '9' {
			continue
		}
		if ruid, threads, ok := procThreads(p.Name()); ok && ruid == uid {
			used += threads
		}
	}
	return int(lim.Cur) - used + own, lim.Cur, true
}

// pidsRoom is threadRoom under the pids controller of the process's
// cgroup (v1 or v2; its ancestors' limits are not read), which counts
// every task in it, whatever its user.
func pidsRoom(own int) (room, limit int, ok bool) {
	cgroups, err := readSmall("/proc/self/cgroup")
	if err != nil {
		return 0, 0, false
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(cgroups)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		var dirs []string
		switch {
		case slices.Contains(strings.Split(f[1], ","), "pids"):
			dirs = []string{"/sys/fs/cgroup/pids" + f[2]}
		case f[0] == "0" && f[1] == "":
			dirs = []string{"/sys/fs/cgroup" + f[2], "/sys/fs/cgroup/unified" + f[2]}
		}
		for _, d := range dirs {
			max, err1 := readSmall(d + "/pids.max")
			cur, err2 := readSmall(d + "/pids.current")
			if err1 != nil || err2 != nil {
				continue
			}
			m, err1 := strconv.Atoi(strings.TrimSpace(string(max)))
			c, err2 := strconv.Atoi(strings.TrimSpace(string(cur)))
			if err1 != nil || err2 != nil { // "max": no limit
				continue
			}
			if !ok || m-c+own < room {
				room, limit, ok = m-c+own, m, true
			}
		}
	}
	return room, limit, ok
}

// ownThreads is how many threads this process has.
func ownThreads() int {
	_, threads, _ := procThreads("self")
	return threads
}

// procThreads reads the real user id and the thread count of process pid.
func procThreads(pid string) (ruid, threads int, ok bool) {
	status, err := readSmall("/proc/" + pid + "/status")
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
		return limit + " leaves room for " + strconv.Itoa(max(room, 0)) + " threads, fewer than the " +
			strconv.Itoa(minThreads) + " a tool needs: raise it, or run fewer processes under it"
	}
	runtime.GOMAXPROCS(min(runtime.GOMAXPROCS(0), room-minThreads+1))
	return ""
}

// readSmall reads a small file of /proc or /sys with system calls alone:
// os.ReadFile's File made the runtime start its poller (an epoll and an
// eventfd, two descriptors for the whole run) in every tool, and a tool
// under a low limit on open files needs them.
func readSmall(name string) ([]byte, error) {
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 4096)
	for {
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}
