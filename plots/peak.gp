# Achieved useful TFLOP/s of the best variant of each problem, against the
# device's dense bf16 tensor-core peak (a known GPU's datasheet number; none
# for emu or an unknown device, which the title says).
# Data: index label(problem) tflops percent_of_peak
set title title."\n".subtitle noenhanced
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by 30 right noenhanced
set ylabel "useful TFLOP/s (best variant, at its median)"
set xlabel "problem"
set yrange [0:*]
set key at graph 0.98, graph 0.88 right noenhanced
set bmargin 10
if (peak > 0) {
    set yrange [0:peak * 1.08]
    set arrow from graph 0, first peak to graph 1, first peak nohead lw 2 dt 2 lc rgb "#d62728"
    set label sprintf("%s dense bf16 peak: %g TFLOP/s", peakpart, peak) at graph 0.02, first peak offset 0,0.8 tc rgb "#d62728" noenhanced
} else {
    set label "no peak: ".peaknote at graph 0.5, graph 0.92 center noenhanced
}
plot datafile using 1:3:xtic(2) with boxes lc rgb "#1f77b4" title "best variant", \
     datafile using 1:3:(peak > 0 ? sprintf("%.1f%%", $4) : sprintf("%.3g", $3)) with labels offset 0,0.8 notitle
