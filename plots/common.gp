# ---- plots/common.gp: terminal, output and the device/timer subtitle ----
# The variables above come from the report: name, title, device, timer, note.
if (!exists("fmt")) fmt = "png"
if (!exists("width")) width = 1000
if (!exists("height")) height = 640
if (fmt eq "svg") {
    set terminal svg size width,height dynamic enhanced font "Sans,11" background rgb "white"
} else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
        set terminal pngcairo size width,height enhanced font "Sans,10" background rgb "white"
    } else {
        set terminal png size width,height
    }
}
set output name.".".fmt
# Every plot names the device and the timer: emu-host numbers are host
# timings of the CPU emulator, never GPU numbers.
subtitle = device."   |   timer: ".timer.(strlen(note) > 0 ? "   |   ".note : "")
set grid lc rgb "#dddddd"
set key noenhanced
set datafile missing "NaN"
# ---- the plot ----
