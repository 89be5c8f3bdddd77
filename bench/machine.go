package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The machine's share of a row. A virtual machine's CPUs are not all its
// own: the hypervisor runs other guests on them (steal time; 7.3% of the
// CPU time during one row of a run on the development machine). A ratio
// measured while much was stolen is worth less, so every row says how
// much was.

// cpuTimes is the first line of /proc/stat: the time all CPUs spent in
// each state since boot, in clock ticks.
type cpuTimes struct {
	total, steal uint64
}

// readCPUTimes reads /proc/stat; ok is false where it cannot.
func readCPUTimes() (cpuTimes, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, false
	}
	return parseCPUTimes(string(data))
}

// parseCPUTimes parses the "cpu" line of /proc/stat: user nice system
// idle iowait irq softirq steal guest guest_nice. guest and guest_nice
// are already counted in user and nice, so they are left out of the
// total.
func parseCPUTimes(stat string) (cpuTimes, bool) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTimes{}, false
	}
	var t cpuTimes
	for i, s := range f[1:9] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cpuTimes{}, false
		}
		t.total += v
		if i == 7 {
			t.steal = v
		}
	}
	return t, true
}

// machineNote describes the machine while a row ran: the load average at
// its start and the share of the CPUs' time stolen from it.
func machineNote(load string, before, after cpuTimes, ok bool) string {
	if !ok || after.total <= before.total {
		return fmt.Sprintf("machine: load %s at the start; steal time not known", load)
	}
	share := float64(after.steal-before.steal) / float64(after.total-before.total)
	return fmt.Sprintf("machine: load %s at the start; %.1f%% of the CPUs' time was stolen by the hypervisor during the row (/proc/stat)", load, 100*share)
}
