package cookienormalizer

import (
	"io"
	"net/http"
	"slices"
	"testing"
)

// TestCascadeKeepersOnLaterPass: a three-member group's cascade after a
// log-out the engines read apart appends deletions of the others and of
// the split member where the engines that keep the field store it (at
// places the policy does not give). On a later pass over the same
// response (a field added between WriteHeader and the first body byte),
// `path /` must not rewrite them to Path=/: the split member would no
// longer be deleted where Firefox (Path=/x, it ignores Max-Age=+0) and
// WebKitGTK (the default path /app, it stops at the tab and reads
// Max-Age=60) store it, while a and b are deleted everywhere. (The
// positions of the first four such deletions were kept once; now the
// whole span of them is.)
func TestCascadeKeepersOnLaterPass(t *testing.T) {
	const cfg = `{"groups":[{"cookies":["a","b","session_id"],"path":"/","on_delete":"cascade"}]}`
	split := "session_id=v; Max-Age=60\t; Max-Age=+0; Path=/x"
	del := func(name, path string) string { return placedCascadeDeletion(name, "; Path="+path) }
	cascade := []string{
		del("session_id", "/"), // placed
		del("a", "/"), del("a", "/x"), del("a", "/app"),
		del("b", "/"), del("b", "/x"), del("b", "/app"),
		del("session_id", "/x"), del("session_id", "/app"), // where Firefox and WebKitGTK keep it
	}
	one, _ := placedServeWith(t, cfg, false, passesApp([]string{split, "theme=dark"}, nil))
	if want := append([]string{split, "theme=dark"}, cascade...); !slices.Equal(one, want) {
		t.Fatalf("one pass:\n got  %q\n want %q", one, want)
	}
	two, _ := placedServeWith(t, cfg, false, passesApp([]string{split}, []string{"theme=dark"}))
	want := append(append([]string{split}, cascade...), "theme=dark")
	if !slices.Equal(two, want) {
		t.Errorf("a field added before the first body byte:\n got  %q\n want %q", two, want)
	}
}

// TestCascadeOthersAtEveryKeeperPlace: the others are deleted wherever
// a split member's deletions for the engines that keep its field go,
// each place once: with four split members (a..d, each read apart: the
// keepers store it at /x<m> and, libsoup, at /app), the untouched member
// u is deleted at /xa, /xb, /xc and /xd and once at /app (six places at
// most were kept once, duplicates included, and /xd was lost).
func TestCascadeOthersAtEveryKeeperPlace(t *testing.T) {
	const cfg = `{"groups":[{"cookies":["u","a","b","c","d"],"path":"/","on_delete":"cascade"}]}`
	var app []string
	for _, m := range []string{"a", "b", "c", "d"} {
		app = append(app, m+"=v; Max-Age=60\t; Max-Age=+0; Path=/x"+m)
	}
	out, _ := placedServeWith(t, cfg, false, passesApp(app, nil))
	var gotU []string
	for _, f := range out {
		if n, _ := cookieName(f); n == "u" {
			gotU = append(gotU, f)
		}
	}
	del := func(path string) string { return placedCascadeDeletion("u", "; Path="+path) }
	wantU := []string{del("/"), del("/xa"), del("/app"), del("/xb"), del("/xc"), del("/xd")}
	if !slices.Equal(gotU, wantU) {
		t.Errorf("u's deletions:\n got  %q\n want %q\n(all fields %q)", gotU, wantU, out)
	}
}

// TestCascadeChromiumOnlyDeleterRefuses: only Chromium's reading
// deletes (Max-Age=+0; the RFC and Firefox ignore "+0", libsoup lets the
// later Expires decide), and Chromium refuses the field (a tab inside
// X's value, the tab-in-attr-value row of docs/engines.md): no engine
// logs a out, and nothing cascades, also under a Date the module cannot
// read (where Firefox's reading of the Expires is not known).
func TestCascadeChromiumOnlyDeleterRefuses(t *testing.T) {
	const cfg = `{"groups":[{"cookies":["a","b"],"on_delete":"cascade"}]}`
	field := "a=v; Max-Age=+0; Expires=Wed, 01 Jan 2031 00:00:00 GMT; X=p\tq"
	for _, date := range []string{testClock.UTC().Format(http.TimeFormat), "garbage"} {
		out, _ := placedServeWith(t, cfg, false, func(w http.ResponseWriter, _ *http.Request) error {
			w.Header().Set("Date", date)
			w.Header().Add("Set-Cookie", field)
			_, err := io.WriteString(w, "page")
			return err
		})
		if want := []string{field}; !slices.Equal(out, want) {
			t.Errorf("Date %q:\n got  %q\n want %q (no engine deletes a: Chromium refuses the field, the others keep it)", date, out, want)
		}
	}
}

// TestSecureOffMigrationNoCascade: `secure off` keeps Secure on a
// SameSite=None or Partitioned field (browsers refuse it without), so an
// app that moves session_id from /app to / over HTTPS (sets it at /,
// then deletes the old copy at /app) moves it in every engine, and
// nothing cascades: the migration check must read Secure as the policies
// send it, not as removed.
func TestSecureOffMigrationNoCascade(t *testing.T) {
	const cfg = `{"groups":[{"cookies":["session_id","user_id__insecure"],"secure":false,"on_delete":"cascade"}]}`
	for _, app := range [][]string{
		{"session_id=v; Max-Age=3600; Path=/; Secure; SameSite=None", "session_id=; Max-Age=0; Path=/app; Secure; SameSite=None"},
		{"session_id=v; Max-Age=3600; Path=/; Secure; Partitioned", "session_id=; Max-Age=0; Path=/app; Secure; Partitioned"},
		{"session_id=v; Max-Age=3600; Path=/; Secure; SameSite=None", "session_id=; Max-Age=0; Path=/app"},
	} {
		out, _ := placedServeWith(t, cfg, false, passesApp(app, nil))
		// The module leaves both fields as they are (Secure kept: the
		// edit is skipped), and nothing cascades: session_id moved.
		if want := app; !slices.Equal(out, want) {
			t.Errorf("fields %q:\n got  %q\n want %q (session_id is live at / in every engine: no cascade)", app, out, want)
		}
	}
}
