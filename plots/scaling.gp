# Kernel time and useful TFLOP/s against sequence length: one line per mask
# storage (and tile-skip setting), the best variant of each; error bars are
# the quartiles (q1..q3) of its samples.
# Data (index i = series i): seq_len median_ms q1_ms q3_ms tflops tflops_at_q3 tflops_at_q1
set multiplot layout 2,1 title title."\n".subtitle noenhanced
set logscale x 2
set logscale y
set xlabel "sequence length (tokens per request)"
set ylabel "kernel time (ms, median; bars q1..q3)"
set key top left
set format x "%g"
set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05
plot for [i=1:nseries] datafile index (i-1) using 1:2:3:4 with yerrorlines lw 2 pt 7 title word(series, i)
unset logscale y
set ylabel "useful TFLOP/s (at the median; bars q3..q1)"
set key top left
plot for [i=1:nseries] datafile index (i-1) using 1:5:6:7 with yerrorlines lw 2 pt 7 title word(series, i)
unset multiplot
