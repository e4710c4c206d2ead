"""pfattn: tuned masked prefill attention, from Python.

A thin ctypes binding of the pfattn C runtime (libpfattn.so, built by the
package's CMake; found beside this file or at $PFATTN_LIB). No build step at
import. The mask metadata builders take numpy arrays (HF token_type_ids /
mm_token_type_ids) and return numpy arrays; launch() takes PyTorch CUDA
tensors and runs on the current stream (torch is imported only there).

    import numpy as np, torch, pfattn
    layout = pfattn.Layout(mm_token_type_ids, attention_mask=attention_mask)
    md = pfattn.build_metadata(layout, head_dim=256, rule="gemma3",
                               layer="sliding", window=1024)
    dmd = md.to("cuda")                      # torch tensors, kept alive
    pfattn.launch(q, k, v, o, dmd, scale=256 ** -0.5)
"""
import ctypes
import os

import numpy as np

__all__ = [
    "PfattnError", "Layout", "indptr", "group_ids", "mask_band", "encode_mask",
    "tile_classes", "work_list", "int32_check", "select", "kernels", "build_metadata",
    "Metadata", "launch", "RULES", "LAYERS", "STORAGES",
]

RULES = {"causal": 0, "gemma3": 1, "gemma4": 2, "bidirectional": 3}
LAYERS = {"full": 0, "sliding": 1}
STORAGES = {"dense": 0, "bitmap": 1, "window": 2, "spans": 3}


class PfattnError(RuntimeError):
    """A pfattn call failed; .code is the PFATTN_ERR_* value."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


_i32, _i64, _vp = ctypes.c_int32, ctypes.c_int64, ctypes.c_void_p


class Band(ctypes.Structure):
    _fields_ = [("left", _i32), ("right", _i32), ("stride", _i32), ("past", _i32)]


class _LayoutSizes(ctypes.Structure):
    _fields_ = [(n, _i64) for n in
                ("batch", "total_q", "total_kv", "max_q_len", "max_kv_len", "max_group_len")]


class _Kernel(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("variant", ctypes.c_char_p)] + [
        (n, _i32) for n in ("head_dim", "block_m", "block_n", "warps", "stages",
                            "mask_storage", "indptr_bytes", "tile_skip", "threads",
                            "smem_bytes")]


_POINTERS = ("q", "k", "v", "o", "lse", "qo_indptr", "kv_indptr", "work_request",
             "work_qtile", "mask", "mask_indptr", "group_ids", "tile_class", "tile_indptr",
             "stream")


class _LaunchArgs(ctypes.Structure):
    _fields_ = [(n, _vp) for n in _POINTERS] + [("seq_len", _i64), ("kernel", _i32)] + [
        (n, _i32) for n in ("batch", "num_work", "num_qo_heads", "num_kv_heads", "head_dim",
                            "rule", "layer", "window")] + [("band", Band),
                                                           ("scale", ctypes.c_float)]


_lib = None


def _find_lib():
    env = os.environ.get("PFATTN_LIB")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "libpfattn.so")
    if os.path.exists(path):
        return path
    raise PfattnError(-6, "libpfattn.so is not beside %s: build the package with CMake "
                          "(it puts pfattn.py and the library together) or set PFATTN_LIB" % here)


def _load():
    global _lib
    if _lib is not None:
        return _lib
    lib = ctypes.CDLL(_find_lib())
    P = ctypes.POINTER
    sigs = {
        "pfattn_last_error": (ctypes.c_char_p, []),
        "pfattn_layout_create": (ctypes.c_int, [ctypes.c_int, _vp, _vp, _vp, P(_vp)]),
        "pfattn_layout_free": (None, [_vp]),
        "pfattn_layout_sizes_get": (ctypes.c_int, [_vp, P(_LayoutSizes)]),
        "pfattn_indptr": (ctypes.c_int, [_vp, ctypes.c_int, _vp, _vp]),
        "pfattn_group_ids": (ctypes.c_int, [_vp, _vp]),
        "pfattn_mask_band": (ctypes.c_int, [_vp, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                            P(Band)]),
        "pfattn_mask_size": (ctypes.c_int, [_vp, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                            ctypes.c_int, P(_i64)]),
        "pfattn_mask_encode": (ctypes.c_int, [_vp] + [ctypes.c_int] * 5 + [_vp, _vp]),
        "pfattn_tile_size": (ctypes.c_int, [_vp, ctypes.c_int, ctypes.c_int, P(_i64)]),
        "pfattn_tile_classes": (ctypes.c_int, [_vp] + [ctypes.c_int] * 6 + [_vp, _vp]),
        "pfattn_work_size": (ctypes.c_int, [_vp, ctypes.c_int, P(_i64)]),
        "pfattn_work_list": (ctypes.c_int, [_vp, ctypes.c_int, _vp, _vp]),
        "pfattn_int32_check": (ctypes.c_int, [_vp] + [ctypes.c_int] * 6),
        "pfattn_kernel_count": (ctypes.c_int, []),
        "pfattn_kernel_get": (P(_Kernel), [ctypes.c_int]),
        "pfattn_select": (ctypes.c_int, [ctypes.c_int, ctypes.c_int, ctypes.c_int, _i64,
                                         P(ctypes.c_int), P(_i64)]),
        "pfattn_launch": (ctypes.c_int, [P(_LaunchArgs)]),
        "pfattn_launch_args_size": (ctypes.c_size_t, []),
        "pfattn_set_kernel_dir": (None, [ctypes.c_char_p]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    if lib.pfattn_launch_args_size() != ctypes.sizeof(_LaunchArgs):
        raise PfattnError(-1, "pfattn.py does not match libpfattn.so (launch args %d vs %d "
                              "bytes): use the pair from one package"
                          % (ctypes.sizeof(_LaunchArgs), lib.pfattn_launch_args_size()))
    _lib = lib
    return lib


def _check(rc):
    if rc != 0:
        raise PfattnError(rc, _lib.pfattn_last_error().decode("utf-8", "replace"))


def _code(table, value, what):
    if isinstance(value, int):
        return value
    if value not in table:
        raise PfattnError(-1, "unknown %s %r (expected %s)" % (what, value, ", ".join(table)))
    return table[value]


def _ptr(a):
    return None if a is None else a.ctypes.data_as(_vp)


def _indptr_dtype(indptr_bytes):
    if indptr_bytes not in (4, 8):
        raise PfattnError(-1, "indptr must be 4 or 8 bytes (got %r)" % (indptr_bytes,))
    return np.int32 if indptr_bytes == 4 else np.int64


class Layout:
    """A batch of requests from token types (0 text, 1 image, 2 video, 3 audio).

    token_type_ids: 1-D (one request, or several with `lens`), 2-D [batch, seq]
    (every row a request; `attention_mask` drops HF padding, left or right),
    or a list of 1-D arrays. prefix: cached tokens per request (their types
    are included in the row)."""

    def __init__(self, token_type_ids, lens=None, prefix=None, attention_mask=None):
        lib = _load()
        if isinstance(token_type_ids, (list, tuple)) and token_type_ids and \
                np.ndim(token_type_ids[0]) == 1:
            rows = [np.asarray(r) for r in token_type_ids]
        else:
            ids = np.asarray(token_type_ids)
            if ids.ndim == 1:
                if lens is None:
                    rows = [ids]
                else:
                    cuts = np.cumsum(np.asarray(lens, dtype=np.int64))[:-1]
                    rows = np.split(ids, cuts)
            elif ids.ndim == 2:
                if attention_mask is not None:
                    m = np.asarray(attention_mask).astype(bool)
                    rows = [ids[i][m[i]] for i in range(ids.shape[0])]
                elif lens is not None:
                    rows = [ids[i][:int(n)] for i, n in enumerate(lens)]
                else:
                    rows = list(ids)
            else:
                raise PfattnError(-1, "token_type_ids must be 1-D or 2-D (got %d-D)" % ids.ndim)
        self._types = np.ascontiguousarray(np.concatenate(rows), dtype=np.int64)
        self._lens = np.ascontiguousarray([len(r) for r in rows], dtype=np.int64)
        self._prefix = None if prefix is None else np.ascontiguousarray(prefix, dtype=np.int64)
        if self._prefix is not None and self._prefix.shape != self._lens.shape:
            raise PfattnError(-1, "prefix needs one value per request (%d)" % len(self._lens))
        self._h = _vp()
        _check(lib.pfattn_layout_create(len(rows), _ptr(self._lens), _ptr(self._prefix),
                                        _ptr(self._types), ctypes.byref(self._h)))
        s = _LayoutSizes()
        _check(lib.pfattn_layout_sizes_get(self._h, ctypes.byref(s)))
        self.batch, self.total_q, self.total_kv = s.batch, s.total_q, s.total_kv
        self.max_q_len, self.max_kv_len, self.max_group_len = \
            s.max_q_len, s.max_kv_len, s.max_group_len

    def __del__(self):
        h = getattr(self, "_h", None)
        if h and _lib is not None:
            _lib.pfattn_layout_free(h)
            self._h = None


def indptr(layout, indptr_bytes=4):
    """(qo_indptr, kv_indptr), each [batch+1]."""
    dt = _indptr_dtype(indptr_bytes)
    qo = np.zeros(layout.batch + 1, dt)
    kv = np.zeros(layout.batch + 1, dt)
    _check(_load().pfattn_indptr(layout._h, indptr_bytes, _ptr(qo), _ptr(kv)))
    return qo, kv


def group_ids(layout):
    """Spans storage: int32 group id per kv token, -1 outside vision."""
    out = np.zeros(layout.total_kv, np.int32)
    _check(_load().pfattn_group_ids(layout._h, _ptr(out)))
    return out


def mask_band(layout, rule, layer, window=0):
    b = Band()
    _check(_load().pfattn_mask_band(layout._h, _code(RULES, rule, "rule"),
                                    _code(LAYERS, layer, "layer"), window, ctypes.byref(b)))
    return {"left": b.left, "right": b.right, "stride": b.stride, "past": b.past}


def encode_mask(layout, storage, rule, layer, window=0, indptr_bytes=4):
    """(mask uint8 [bytes], mask_indptr [batch+1]) of dense/bitmap/window;
    (None, None) for spans (it reads group_ids)."""
    lib = _load()
    st, r, l = _code(STORAGES, storage, "storage"), _code(RULES, rule, "rule"), \
        _code(LAYERS, layer, "layer")
    n = _i64()
    _check(lib.pfattn_mask_size(layout._h, st, r, l, window, ctypes.byref(n)))
    if st == STORAGES["spans"]:
        return None, None
    mask = np.zeros(max(n.value, 1), np.uint8)
    ind = np.zeros(layout.batch + 1, _indptr_dtype(indptr_bytes))
    _check(lib.pfattn_mask_encode(layout._h, st, r, l, window, indptr_bytes, _ptr(mask),
                                  _ptr(ind)))
    return mask[:n.value], ind


def tile_classes(layout, rule, layer, window, block_m, block_n, indptr_bytes=4):
    """(classes uint8, tile_indptr [batch+1]) for BLOCK_M x BLOCK_N tiles."""
    lib = _load()
    n = _i64()
    _check(lib.pfattn_tile_size(layout._h, block_m, block_n, ctypes.byref(n)))
    cls = np.zeros(max(n.value, 1), np.uint8)
    ind = np.zeros(layout.batch + 1, _indptr_dtype(indptr_bytes))
    _check(lib.pfattn_tile_classes(layout._h, _code(RULES, rule, "rule"),
                                   _code(LAYERS, layer, "layer"), window, block_m, block_n,
                                   indptr_bytes, _ptr(cls), _ptr(ind)))
    return cls[:n.value], ind


def work_list(layout, block_m):
    """(work_request, work_qtile) int32: one block per (request, query tile)."""
    lib = _load()
    n = _i64()
    _check(lib.pfattn_work_size(layout._h, block_m, ctypes.byref(n)))
    req = np.zeros(max(n.value, 1), np.int32)
    qt = np.zeros(max(n.value, 1), np.int32)
    _check(lib.pfattn_work_list(layout._h, block_m, _ptr(req), _ptr(qt)))
    return req[:n.value], qt[:n.value]


def int32_check(layout, storage, rule, layer, window=0, block_m=0, block_n=0):
    """Raise PfattnError (code -2) when int32 indptrs cannot address this."""
    _check(_load().pfattn_int32_check(layout._h, _code(STORAGES, storage, "storage"),
                                      _code(RULES, rule, "rule"), _code(LAYERS, layer, "layer"),
                                      window, block_m, block_n))


def _kernel_dict(lib, index):
    k = lib.pfattn_kernel_get(index).contents
    d = {f: getattr(k, f) for f, _ in _Kernel._fields_}
    d["name"], d["variant"], d["index"] = k.name.decode(), k.variant.decode(), index
    d["mask_storage"] = [s for s, v in STORAGES.items() if v == k.mask_storage][0]
    return d


def kernels():
    lib = _load()
    return [_kernel_dict(lib, i) for i in range(lib.pfattn_kernel_count())]


def select(head_dim, layer, rule, seq_len):
    """The tuned kernel for this shape at seq_len (nearest bucket, ties to the larger)."""
    lib = _load()
    k, b = ctypes.c_int(), _i64()
    _check(lib.pfattn_select(head_dim, _code(LAYERS, layer, "layer"), _code(RULES, rule, "rule"),
                             seq_len, ctypes.byref(k), ctypes.byref(b)))
    d = _kernel_dict(lib, k.value)
    d["bucket"] = b.value
    return d


class Metadata:
    """Host (numpy) arrays of one launch plus its scalars; .to(device) copies
    the arrays into torch tensors for launch()."""

    ARRAYS = ("qo_indptr", "kv_indptr", "work_request", "work_qtile", "mask", "mask_indptr",
              "group_ids", "tile_class", "tile_indptr")

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def to(self, device):
        import torch
        out = dict(self.__dict__)
        for name in self.ARRAYS:
            a = getattr(self, name)
            out[name] = None if a is None else torch.from_numpy(np.ascontiguousarray(a)).to(device)
        return Metadata(**out)


def build_metadata(layout, head_dim, rule, layer, window=0, seq_len=None):
    """Pick the kernel (seq_len default: the longest request) and build every
    array it reads."""
    seq = int(seq_len) if seq_len else layout.max_kv_len
    k = select(head_dim, layer, rule, seq)
    ib, bm = k["indptr_bytes"], k["block_m"]
    qo, kv = indptr(layout, ib)
    req, qt = work_list(layout, bm)
    md = dict(kernel=k, seq_len=seq, batch=layout.batch, total_q=layout.total_q,
              total_kv=layout.total_kv, rule=rule, layer=layer,
              window=window if layer in ("sliding", 1) else 0, qo_indptr=qo, kv_indptr=kv,
              work_request=req, work_qtile=qt, mask=None, mask_indptr=None, group_ids=None,
              tile_class=None, tile_indptr=None,
              band={"left": 0, "right": 0, "stride": 0, "past": 0})
    if k["mask_storage"] == "spans":
        md["group_ids"] = group_ids(layout)
    else:
        md["mask"], md["mask_indptr"] = encode_mask(layout, k["mask_storage"], rule, layer,
                                                    window, ib)
        if k["mask_storage"] == "window":
            md["band"] = mask_band(layout, rule, layer, window)
    if k["tile_skip"]:
        md["tile_class"], md["tile_indptr"] = tile_classes(layout, rule, layer, window, bm,
                                                           k["block_n"], ib)
    return Metadata(**md)


def _dptr(t):
    return None if t is None else _vp(t.data_ptr())


def launch(q, k, v, o, md, scale=None, lse=None, stream=None):
    """o = attention(q, k, v) on the GPU, asynchronously on `stream` (default:
    torch's current stream). q/o: bf16 [total_q, Hq, D]; k/v: bf16
    [total_kv, Hkv, D]; lse: float32 [total_q, Hq] or None; md: a Metadata
    whose arrays are on q's device (Metadata.to)."""
    import torch
    lib = _load()
    for name, t in (("q", q), ("k", k), ("v", v), ("o", o)):
        if t.dtype != torch.bfloat16 or not t.is_cuda or not t.is_contiguous() or t.dim() != 3:
            raise PfattnError(-1, "%s must be a contiguous bf16 CUDA tensor [tokens, heads, "
                                  "head_dim]" % name)
    if lse is not None and (lse.dtype != torch.float32 or not lse.is_contiguous()):
        raise PfattnError(-1, "lse must be a contiguous float32 CUDA tensor [total_q, Hq]")
    head_dim = q.shape[2]
    a = _LaunchArgs()
    for name, t in (("q", q), ("k", k), ("v", v), ("o", o)):
        setattr(a, name, _dptr(t))
    a.lse = _dptr(lse)
    for name in Metadata.ARRAYS:
        setattr(a, name, _dptr(getattr(md, name)))
    if stream is None:
        stream = torch.cuda.current_stream(q.device)
    a.stream = _vp(stream.cuda_stream if hasattr(stream, "cuda_stream") else int(stream))
    a.seq_len, a.kernel = md.seq_len, md.kernel["index"]
    a.batch, a.num_work = md.batch, len(md.work_request)
    a.num_qo_heads, a.num_kv_heads, a.head_dim = q.shape[1], k.shape[1], head_dim
    a.rule, a.layer = _code(RULES, md.rule, "rule"), _code(LAYERS, md.layer, "layer")
    a.window = md.window
    a.band = Band(**md.band)
    a.scale = head_dim ** -0.5 if scale is None else scale
    with torch.cuda.device(q.device):
        _check(lib.pfattn_launch(ctypes.byref(a)))
    return o
