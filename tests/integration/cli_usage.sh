#!/bin/bash
# CLI contract: --help/--version, unknown commands and options suggest the
# closest valid one (exit 2, one line on stderr), every command has --help.
set -u
PFTUNE=${1:?usage: cli_usage.sh PFTUNE}
fails=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# run EXPECTED_RC CMD...: runs, captures stdout/stderr, checks the exit code
run() {
    local want=$1; shift
    "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
    if [ "$rc" != "$want" ]; then
        echo "FAIL: '$*' exited $rc, expected $want"; cat "$tmp/err"; fails=$((fails+1))
    fi
}
expect() { # expect FILE REGEX
    if ! grep -Eq -- "$2" "$tmp/$1"; then
        echo "FAIL: $1 lacks /$2/:"; cat "$tmp/$1"; fails=$((fails+1))
    fi
}
one_line_err() {
    local n; n=$(wc -l <"$tmp/err")
    if [ "$n" != 1 ]; then echo "FAIL: expected one stderr line, got $n:"; cat "$tmp/err"; fails=$((fails+1)); fi
}

run 2 "$PFTUNE";                 expect err 'usage: pftune'
run 0 "$PFTUNE" --help;          expect out '^commands:'; expect out '^  compile '; expect out 'examples:'
run 0 "$PFTUNE" --version;       expect out '^pftune [0-9]+\.[0-9]+\.[0-9]+ \(.+\)$'
run 2 "$PFTUNE" compil;          one_line_err; expect err "^pftune: unknown command 'compil' \(did you mean 'compile'\?\)$"
run 2 "$PFTUNE" cmpile;          expect err "did you mean 'compile'"
run 2 "$PFTUNE" qqqqqqqqqq;      one_line_err; expect err "^pftune: unknown command 'qqqqqqqqqq'"
if grep -q "did you mean" "$tmp/err"; then echo "FAIL: suggestion for a non-typo"; fails=$((fails+1)); fi
run 2 "$PFTUNE" --hlep;          one_line_err; expect err "did you mean '--help'"
run 2 "$PFTUNE" compile --archh sm_90 --kernel x
one_line_err; expect err "^pftune: compile: unknown option '--archh' \(did you mean '--arch'\?\)$"
run 2 "$PFTUNE" compile --jsno;  expect err "did you mean '--json'"
run 2 "$PFTUNE" compile --arch;  one_line_err; expect err "^pftune: compile: option '--arch' needs a value"
run 0 "$PFTUNE" help compile;    expect out '^usage: pftune compile'
run 2 "$PFTUNE" help compil;     expect err "did you mean 'compile'"

# every listed command answers --help with a usage line and exit 0
cmds=$("$PFTUNE" --help | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{exit}')
[ -n "$cmds" ] || { echo "FAIL: no commands listed"; fails=$((fails+1)); }
for c in $cmds; do
    [ "$c" = help ] && continue
    run 0 "$PFTUNE" "$c" --help; expect out '^usage: '
    run 2 "$PFTUNE" "$c" --no-such-option-xyz; one_line_err; expect err "^pftune: $c: unknown option '--no-such-option-xyz'"
done

[ "$fails" = 0 ] && echo "cli_usage: all passed" || { echo "cli_usage: $fails failed"; exit 1; }
