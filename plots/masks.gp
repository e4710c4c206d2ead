# Mask metadata bytes against sequence length, log-log. Lines: pf_mask_bytes
# computed for the workload's layout regenerated at each length (`pattern`
# says which layout); points: the metadata_bytes the tuner recorded (these
# also count the tile-class table, so they sit slightly above the lines).
# Dashed verticals (set by the report above): the first length whose mask no longer fits an int32
# indptr (or bitmap bit index); beyond it the lines use int64 indptr.
# Data: masks_X.dat index s = storage s: seq_len bytes indptr_bytes;
#       masks_X_measured.dat index s: seq_len bytes.
set title title."\n".subtitle."\nlines: pf_mask_bytes of ".pattern noenhanced
set logscale xy 2
set format x "2^{%L}"
set format y "2^{%L}"
set xlabel "sequence length (tokens per request)"
set ylabel "mask metadata (bytes)"
set key top left box opaque noenhanced
set arrow from graph 0, first int32max to graph 1, first int32max nohead dt 3 lc rgb "#555555"
set label "INT32\\_MAX bytes" at graph 0.98, first int32max right offset 0,0.7
plot for [s=1:nstor] linefile index (s-1) using 1:2 with lines lw 2 lc s title word(storages, s)." (analytic)", \
     for [s=1:nstor] pointfile index (s-1) using 1:2 with points pt 7 ps 1.6 lc s title word(storages, s)." measured (metadata_bytes)"
