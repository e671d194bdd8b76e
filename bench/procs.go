package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a server the harness started. It is stopped by its PID, never by
// name: on a shared machine a pkill would hit other people's processes.
type proc struct {
	name string
	log  string // stdout and stderr
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // Wait's error, valid after done
}

// startProc starts path with args, its output going to logPath.
func startProc(name, logPath string, env []string, path string, args ...string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process and waits; after timeout it sends
// SIGKILL. nginx's master stops its workers on SIGTERM before it exits.
func (p *proc) stop(timeout time.Duration) error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s (pid %d) ignored SIGTERM for %s and was killed", p.name, p.cmd.Process.Pid, timeout)
}

// logTail returns the end of the process's log, for error messages.
func (p *proc) logTail() string {
	data, _ := os.ReadFile(p.log)
	const n = 2000
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return strings.TrimSpace(string(data))
}

// hostPort is a 127.0.0.1 address.
func hostPort(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// freePorts returns n distinct 127.0.0.1 ports that nothing listens on.
// Caddy listens with SO_REUSEPORT, so a Caddy left over from an earlier run
// would silently share a port with ours and answer some of the requests:
// each port is checked both by binding it (which fails next to a listener
// without SO_REUSEPORT on our side) and by connecting to it.
func freePorts(n int) ([]int, error) {
	var ports []int
	seen := map[int]bool{}
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100*n {
			return nil, errors.New("no free ports on 127.0.0.1")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if seen[port] || !portFree(port) {
			continue
		}
		seen[port] = true
		ports = append(ports, port)
	}
	return ports, nil
}

// portFree reports whether nothing listens on 127.0.0.1:port.
func portFree(port int) bool {
	c, err := net.DialTimeout("tcp", hostPort(port), 200*time.Millisecond)
	if err == nil {
		c.Close()
		return false
	}
	l, err := net.Listen("tcp", hostPort(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// waitListening waits until port accepts connections, failing early if p
// exits.
func waitListening(ctx context.Context, p *proc, port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if p.exited() {
			return fmt.Errorf("%s exited before listening on %d: %v\n%s", p.name, port, p.err, p.logTail())
		}
		c, err := net.DialTimeout("tcp", hostPort(port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s is not listening on %d after %s\n%s", p.name, port, timeout, p.logTail())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitClosed waits until nothing listens on the ports any more: after our
// processes stopped, a port still answering means a process we did not
// start shares it.
func waitClosed(ports []int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, port := range ports {
		for !portFree(port) {
			if time.Now().After(deadline) {
				return fmt.Errorf("127.0.0.1:%d still answers after every process the harness started has stopped: another process listens there", port)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}
