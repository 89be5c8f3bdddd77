package main

import (
	"strings"
	"testing"
)

func TestParseCPUTimes(t *testing.T) {
	stat := "cpu  100 20 30 400 5 0 6 40 7 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"
	got, ok := parseCPUTimes(stat)
	if !ok || got.total != 601 || got.steal != 40 {
		t.Fatalf("parseCPUTimes = %+v, %v; want total 601 (guest left out), steal 40", got, ok)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5 6 7 8\n", "cpu 1 2 3\n", "cpu 1 2 3 4 5 6 7 x 9\n"} {
		if _, ok := parseCPUTimes(bad); ok {
			t.Errorf("parseCPUTimes(%q) accepted", bad)
		}
	}
}

func TestMachineNote(t *testing.T) {
	got := machineNote("1.00 2.00 3.00", cpuTimes{total: 1000, steal: 100}, cpuTimes{total: 2000, steal: 350}, true)
	if !strings.Contains(got, "load 1.00 2.00 3.00") || !strings.Contains(got, "25.0% of the CPUs' time was stolen") {
		t.Errorf("machineNote = %q", got)
	}
	if got := machineNote("1", cpuTimes{}, cpuTimes{}, false); !strings.Contains(got, "not known") {
		t.Errorf("machineNote without /proc/stat = %q", got)
	}
}
