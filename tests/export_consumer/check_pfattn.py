"""Compare pfattn.py's numpy builders with `pftune masks --dump` output.

usage: check_pfattn.py CASES_FILE
Each line of CASES_FILE: DUMP_DIR<TAB>LAYOUT<TAB>RULE<TAB>WINDOW<TAB>TILES
(layout grammar of pftune: requests by ';', spans kind+count, '|' ends the
cached prefix). pfattn is imported from PYTHONPATH / PFATTN_LIB. Prints one
line per mismatch and exits 1 if there is any."""
import os
import sys

import numpy as np

import pfattn

KINDS = {"t": 0, "i": 1, "v": 2, "a": 3}


def parse(layout):
    rows, prefix = [], []
    for req in layout.split(";"):
        types, p = [], 0
        for part in req.split(","):
            for j, span in enumerate(part.split("|")):
                if j:
                    p = len(types)
                types += [KINDS[span[0]]] * int(span[1:])
        rows.append(np.array(types, np.int64))
        prefix.append(p)
    return rows, prefix


def read(path, dtype=np.uint8):
    return np.fromfile(path, dtype=dtype)


def main():
    bad = 0

    def same(what, got, path, dtype=np.uint8):
        nonlocal bad
        want = read(path, dtype)
        if got is None or got.shape != want.shape or not np.array_equal(got, want):
            print("MISMATCH %s (%s)" % (what, path))
            bad += 1

    def same_err(what, fn, path):
        nonlocal bad
        if os.path.exists(path + ".err"):
            want = open(path + ".err").read().strip()
            try:
                fn()
                got = "ok"
            except pfattn.PfattnError as e:
                got = str(e)
            if got != want:
                print("MISMATCH %s: %r vs %r" % (what, got, want))
                bad += 1
        else:
            same(what, fn(), path, np.int32)

    cases = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
    for d, layout, rule, window, tiles in cases:
        window = int(window)
        rows, prefix = parse(layout)
        L = pfattn.Layout(rows, prefix=prefix)
        for ib, ext in ((8, "i64"), (4, "i32")):
            for k, name in enumerate(("qo_indptr", "kv_indptr")):
                path = os.path.join(d, "%s.%s" % (name, ext))
                if ib == 8:
                    same(name, pfattn.indptr(L, 8)[k], path, np.int64)
                else:
                    same_err(name, lambda k=k: pfattn.indptr(L, 4)[k], path)
        same("group_ids", pfattn.group_ids(L), os.path.join(d, "group_ids.i32"), np.int32)
        layers = ["full"] if rule == "bidirectional" else ["full", "sliding"]
        for layer in layers:
            b = pfattn.mask_band(L, rule, layer, window)
            want = open(os.path.join(d, layer + ".band")).read().split()
            if [str(b[x]) for x in ("left", "right", "stride", "past")] != want:
                print("MISMATCH band %s %s" % (d, layer))
                bad += 1
            for st in ("dense", "bitmap", "window"):
                m, ind = pfattn.encode_mask(L, st, rule, layer, window, 8)
                base = os.path.join(d, "%s.%s" % (layer, st))
                same(st + " mask", m, base + ".mask")
                same(st + " indptr", ind, base + ".indptr.i64", np.int64)
                same_err(st + " indptr32",
                         lambda st=st: pfattn.encode_mask(L, st, rule, layer, window, 4)[1],
                         base + ".indptr.i32")
            for t in tiles.split(","):
                bm, bn = (int(x) for x in t.split("x"))
                cls, ind = pfattn.tile_classes(L, rule, layer, window, bm, bn, 8)
                base = os.path.join(d, "%s.tiles.%s" % (layer, t))
                same("tiles " + t, cls, base + ".cls")
                same("tile indptr " + t, ind, base + ".indptr.i64", np.int64)
                for st in ("dense", "bitmap", "window", "spans"):
                    try:
                        pfattn.int32_check(L, st, rule, layer, window, bm, bn)
                        got = "ok"
                    except pfattn.PfattnError as e:
                        got = str(e)
                    want = open(os.path.join(d, "%s.int32.%s.%s" % (layer, st, t))).read().strip()
                    if got != want:
                        print("MISMATCH int32 %s %s: %r vs %r" % (st, t, got, want))
                        bad += 1
    # HF-style inputs: a padded 2-D batch with an attention mask is the same
    # layout as its rows without padding.
    ids = np.array([[0, 0, 1, 1, 1, 0, 0], [0, 0, 0, 1, 1, 0, 2]])
    am = np.array([[0, 0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]])
    a = pfattn.group_ids(pfattn.Layout(ids, attention_mask=am))
    b = pfattn.group_ids(pfattn.Layout([ids[0][2:], ids[1]]))
    if not np.array_equal(a, b) or list(a[:5]) != [0, 0, 0, -1, -1]:
        print("MISMATCH attention_mask layout: %s vs %s" % (a, b))
        bad += 1
    print("check_pfattn: %d layouts, %d mismatches" % (len(cases), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
