package cookienormalizer

import (
	"fmt"
	"sync"

	"go.uber.org/zap/zapcore"
)

// recordingCore is a logger core that takes every level and records each
// entry the module writes, safe for concurrent use. With panicAt above 0
// it panics at its panicAt-th entry, as a failing core would, in the
// middle of a rewrite.
type recordingCore struct {
	mu      sync.Mutex
	entries []loggedEntry
	count   int
	panicAt int
}

// loggedEntry is a log line: its level, message and fields.
type loggedEntry struct {
	level                 zapcore.Level
	msg                   string
	cookie, group, action string
	fields                map[string]any
}

func (e loggedEntry) key() string { return e.cookie + " / " + e.group + " / " + e.action }

func (e loggedEntry) String() string {
	return fmt.Sprintf("%s %q %s", e.level, e.msg, e.key())
}

// line is the entry as the history tests compare it: message, cookie,
// group and action.
func (e loggedEntry) line() string {
	return fmt.Sprintf("%s %s %s %s", e.msg, e.cookie, e.group, e.action)
}

func (c *recordingCore) Enabled(zapcore.Level) bool        { return true }
func (c *recordingCore) With([]zapcore.Field) zapcore.Core { return c }
func (c *recordingCore) Sync() error                       { return nil }

func (c *recordingCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, c)
}

func (c *recordingCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	c.mu.Lock()
	c.count++
	fail := c.count == c.panicAt
	c.mu.Unlock()
	if fail {
		panic("the logger's core failed")
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	str := func(k string) string { s, _ := enc.Fields[k].(string); return s }
	entry := loggedEntry{level: e.Level, msg: e.Message,
		cookie: str("cookie"), group: str("group"), action: str("action"), fields: enc.Fields}
	c.mu.Lock()
	c.entries = append(c.entries, entry)
	c.mu.Unlock()
	return nil
}

// reset forgets what was recorded and panics at the panicAt-th entry
// from now (0: never).
func (c *recordingCore) reset(panicAt int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries, c.count, c.panicAt = nil, 0, panicAt
}

// recorded returns the entries recorded so far.
func (c *recordingCore) recorded() []loggedEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries
}

// lines returns the entries recorded so far as lines.
func (c *recordingCore) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.entries {
		out = append(out, e.line())
	}
	return out
}

// take returns the entries recorded so far as lines and forgets them.
func (c *recordingCore) take() []string {
	out := c.lines()
	c.mu.Lock()
	c.entries = nil
	c.mu.Unlock()
	return out
}

// panicked reports whether the core reached its panicAt-th entry.
func (c *recordingCore) panicked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.panicAt > 0 && c.count >= c.panicAt
}
