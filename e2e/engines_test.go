package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// engine is one browser engine of the suite. Each engine runs one browser
// process for the whole package (started by the first test that needs it,
// stopped by TestMain through the handle the test holds, never by name),
// and hands out clients whose jars start empty.
type engine struct {
	// name is what reports and docs/engines.md call the engine:
	// "Chromium", "Firefox", "WebKit".
	name string

	// open starts the engine's browser if it is not running yet and
	// returns its product and version (for example "Chromium/156.0…").
	// A browser that is not installed skips the test naming the Debian
	// package (a failure under CI=true, see requireProgram); one that is
	// installed but does not start fails the test.
	open func(t *testing.T) (version string)

	// newClient returns a client with an empty jar, for one scenario. The
	// jar is cleared again when the test ends.
	newClient func(t *testing.T) cookieClient
}

// engines lists the browser engines every browser scenario runs in.
var engines = []engine{
	chromiumEngine,
	firefoxEngine,
	webkitEngine,
}

// browserStartTimeout bounds starting a browser or driver, up to its first
// answer. The engines start at the same time on the project's 2-core
// machine; with other work on it (a build, another package's tests),
// WebKit's first session once took more than 30 s.
const browserStartTimeout = 90 * time.Second

// process is a program an engine started for the whole package. It is
// stopped through its PID, never by name.
type process struct {
	cmd    *exec.Cmd
	out    *outputLog
	exited chan struct{} // closed once Wait returned
}

// startProcess starts cmd with its stdout and stderr going to an outputLog
// that calls onLine for each line (onLine may be nil).
func startProcess(cmd *exec.Cmd, onLine func(line string)) (*process, error) {
	p := &process{cmd: cmd, out: &outputLog{onLine: onLine}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	// Child processes (Firefox's content processes) inherit the output
	// pipe; WaitDelay keeps Wait from waiting for them to close it.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = cmd.Wait() // killed or not, the exit is expected by then
		close(p.exited)
	}()
	return p, nil
}

// stop waits up to grace for the process to exit (after the caller asked
// it to), then kills it by its PID and waits for that.
func (p *process) stop(grace time.Duration) {
	select {
	case <-p.exited:
		return
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		fmt.Fprintf(os.Stderr, "e2e: %s (pid %d) did not exit after SIGKILL\n", p.cmd.Path, p.cmd.Process.Pid)
	}
}

// outputLog keeps the last 16 KiB a process wrote, for error messages, and
// hands each complete line to onLine.
type outputLog struct {
	mu      sync.Mutex
	onLine  func(string)
	partial []byte
	tail    []byte
}

func (o *outputLog) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tail = append(o.tail, b...)
	if n := len(o.tail) - 16<<10; n > 0 {
		o.tail = o.tail[n:]
	}
	o.partial = append(o.partial, b...)
	for {
		i := bytes.IndexByte(o.partial, '\n')
		if i < 0 {
			break
		}
		if o.onLine != nil {
			o.onLine(string(o.partial[:i]))
		}
		o.partial = o.partial[i+1:]
	}
	return len(b), nil
}

// String returns the output kept.
func (o *outputLog) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return string(o.tail)
}
