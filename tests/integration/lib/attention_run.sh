# Sourced by integration scripts that compare `pftune attention` outputs:
# run NAME ARGS... runs the emu kernel on $layout (4:2 heads, seed 7) with
# ARGS, writing $tmp/NAME.npy, $tmp/NAME.lse.npy and $tmp/NAME.log; on
# failure it prints the log, sets fail=1 and returns 1. Needs PFTUNE, tmp,
# layout and fail set by the caller.
run() {
    local name=$1; shift
    if ! "$PFTUNE" attention --device emu --seed 7 --layout "$layout" --heads 4:2 \
        "$@" --out "$tmp/$name.npy" --lse "$tmp/$name.lse.npy" >"$tmp/$name.log" 2>&1; then
        echo "FAIL: $name: run failed:"; cat "$tmp/$name.log"; fail=1; return 1
    fi
}
