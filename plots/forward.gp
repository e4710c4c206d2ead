# The forward's time per decoder layer, stacked: attention, GEMMs, other
# ops (norms, RoPE, residuals, GeGLU). Data: layer kind attention gemm other
set title title."\n".subtitle noenhanced
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.8
set xlabel "decoder layer (F: full attention, S: sliding)"
set ylabel "ms (median)"
set yrange [0:*]
set key top left noenhanced
plot datafile using 3:xtic(sprintf("%d%s", $1, strcol(2) eq "full" ? "F" : "S")) title "attention" lc rgb "#d62728", \
     '' using 4 title "GEMMs" lc rgb "#1f77b4", \
     '' using 5 title "other" lc rgb "#7f7f7f"
