# BLOCK_M x BLOCK_N heatmap of median kernel time, one panel per mask
# storage, for one problem: each cell is the fastest variant with that tile
# shape (over the other axes). Grey cells were pruned before running
# (validity, int32, constraints, spills), red cells failed (compile, verify,
# runtime, crash, timeout); the problem's winner is outlined in black.
# Data (index s = storage s): xi yi status(0 timed, 1 pruned, 2 failed) median_ms label winner
# Variables: nstor, storages (words), mvals / nvals (tile sizes, words).
nm = words(mvals)
nn = words(nvals)
cols = (nstor > 1) ? 2 : 1
rows = (nstor + cols - 1) / cols
set multiplot layout rows,cols title title."\n".subtitle noenhanced
set xrange [-0.5:nm-0.5]
set yrange [-0.5:nn-0.5]
set xtics () ; set ytics ()
do for [i=1:nm] { set xtics add (word(mvals, i) i-1) }
do for [i=1:nn] { set ytics add (word(nvals, i) i-1) }
set xlabel "BLOCK\\_M (query rows per tile)"
set ylabel "BLOCK\\_N (keys per tile)"
set logscale cb
if (cbmax / cbmin < 10) { unset logscale cb }
set format cb "%.3g"
set cblabel "median kernel time (ms)" offset 1.5,0
set palette defined (0 "#1a9850", 1 "#a6d96a", 2 "#ffffbf", 3 "#fdae61")  # green fast .. orange slow; red is for failed cells
set cbrange [cbmin:cbmax]
unset key
unset grid
do for [s=1:nstor] {
    set title "MASK\\_STORAGE=".word(storages, s)
    plot datafile index (s-1) using 1:2:(0.5):(0.5):($3 == 0 ? $4 : 1/0) with boxxyerror fs solid 1.0 lc palette, \
         datafile index (s-1) using ($3 == 1 ? $1 : 1/0):2:(0.5):(0.5) with boxxyerror fs pattern 2 lc rgb "#999999", \
         datafile index (s-1) using ($3 == 2 ? $1 : 1/0):2:(0.5):(0.5) with boxxyerror fs pattern 4 lc rgb "#e41a1c", \
         datafile index (s-1) using 1:2:5 with labels font ",9" noenhanced, \
         datafile index (s-1) using ($6 == 1 ? $1 : 1/0):2:(0.47):(0.47) with boxxyerror fs empty lw 4 lc rgb "black"
}
unset multiplot
