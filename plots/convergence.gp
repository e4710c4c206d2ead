# Best-so-far against evaluations for each search strategy, replayed over
# the recorded times (tuner/replay.h), and the sweep's own order from its
# journal when there is one: how far above each problem's best (exhaustive)
# the best found so far is, as a geometric mean over the problems.
# Data (index i = series i; lines joined point to point, read them as steps): evaluations percent_above_best problems_still_searching
set title title."\n".subtitle noenhanced
set xlabel "evaluations (per problem)"
set ylabel "best so far: % above the problem's best (geometric mean)"
set key top right noenhanced
set yrange [0:*]
set xrange [1:*]
set format x "%.0f"
plot for [i=1:nseries] datafile index (i-1) using 1:2 with linespoints lw 2 dt i pt i ps 1.3 title word(series, i)
