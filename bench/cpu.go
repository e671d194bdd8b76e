package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// CPU time per request is a steadier measure of a proxy's cost than
// requests/s on a small shared machine: wrk, the proxy and the upstream
// compete for the same two cores, and the host's noise moves requests/s by
// ±15 % from one run to the next, while the CPU the proxy spends on each
// request moves much less. A process's CPU time is read from its CPU-time
// clock (nanoseconds), not from /proc/<pid>/stat, whose clock ticks of
// 10 ms would be a 1 % step in a 1 s run of one core: as large as the
// 1 % the full configuration is allowed.

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat times.
var clockTicks = func() float64 {
	if out, err := exec.Command("getconf", "CLK_TCK").Output(); err == nil {
		if v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
}()

// processCPU returns the user plus system CPU time of pid and of its child
// processes that are still running (nginx's workers).
func processCPU(pid int) time.Duration {
	total := ownCPU(pid)
	for _, child := range childPIDs(pid) {
		total += ownCPU(child)
	}
	return total
}

// ownCPU returns the CPU time of one process (all its threads, also those
// that have exited): its CPU-time clock, or utime plus stime from /proc
// where the clock cannot be read.
func ownCPU(pid int) time.Duration {
	if d, ok := processClock(pid); ok {
		return d
	}
	return statCPU(pid)
}

// processClock reads the CPU-time clock of pid with clock_gettime: Linux
// encodes a process's clock as ((^pid) << 3) | CPUCLOCK_SCHED (2), which is
// what clock_getcpuclockid returns.
func processClock(pid int) (time.Duration, bool) {
	clock := int32((^pid)<<3 | 2)
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, uintptr(clock), uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}

// statCPU reads utime and stime of one process from /proc, in clock ticks.
func statCPU(pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return time.Duration((utime + stime) / clockTicks * float64(time.Second))
}

// childPIDs lists the children of pid, from every thread's children file.
func childPIDs(pid int) []int {
	files, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var pids []int
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if p, err := strconv.Atoi(f); err == nil {
				pids = append(pids, p)
			}
		}
	}
	return pids
}

// machineBusy returns the CPU time all processes have used since boot (the
// non-idle fields of /proc/stat's cpu line): with our own processes' share
// taken off, what is left over a run is other people's work on the machine,
// which moves the numbers of a run and is reported with it.
func machineBusy() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy float64
	// user nice system idle iowait irq softirq steal: all but idle and
	// iowait.
	for i, v := range f[1:9] {
		if i == 3 || i == 4 {
			continue
		}
		n, _ := strconv.ParseFloat(v, 64)
		busy += n
	}
	return time.Duration(busy / clockTicks * float64(time.Second))
}

// childrenCPU is the CPU time of the harness's finished child processes
// and their waited-for descendants (go test and its test binaries).
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineShare is cpu, CPU time used since t0, as a share of the machine
// (cores × the time since t0); 0 for a negative cpu.
func machineShare(cpu time.Duration, t0 time.Time) float64 {
	return max(0, float64(cpu)/float64(time.Duration(runtime.NumCPU())*time.Since(t0)))
}
