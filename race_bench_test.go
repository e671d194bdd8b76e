//go:build race

package cookienormalizer

// benchRaceEnabled reports whether the tests run under the race detector,
// where sync.Pool drops objects on purpose and allocation counts of pooled
// paths mean nothing.
const benchRaceEnabled = true
