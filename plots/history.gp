# The median kernel time of each problem's best variant across a series of
# results (in order of meta.finished, or as given); dashed lines mark the
# step changes found (set by pftune history above, with their size and p).
# Data (index i = key i): result_index median_ms
set title title."\n".subtitle noenhanced
set xlabel "result (in order; see history.md for the files)"
set ylabel "median kernel time of the best variant (ms)"
set logscale y
set xrange [0.5:nresults+0.5]
set xtics 1
set key outside right top noenhanced
plot for [i=1:nkeys] datafile index (i-1) using 1:2 with linespoints lw 2 pt 7 title word(keys, i)
