"""Many encode/decode cycles leave C memory where it was: the bytes typemaps
free every library buffer and binding-created offers free their nodes."""
import ctypes
import gc

import gpurent


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                "fsmblks", "uordblks", "fordblks", "keepcost")]


_libc = ctypes.CDLL(None)
_libc.mallinfo2.restype = _MallInfo2


def c_heap_in_use():
    """Bytes allocated with malloc and not freed (glibc's count)."""
    m = _libc.mallinfo2()
    return m.uordblks + m.hblkhd


def cycle(o, q, bad):
    ob, qb = o.encode(), q.encode()
    gpurent.Offer.decode(ob)
    gpurent.Request.decode(qb)
    try:
        gpurent.Offer.decode(bad)
    except gpurent.WireError:
        pass


def test_encode_decode_cycles_do_not_grow_the_c_heap():
    g = gpurent.GPU(model="H100", cc_major=9, memory_mib=81559)
    o = gpurent.Offer(provider_key=bytes(32), region="eu", nodes=[
        gpurent.Node(node_id=f"n{i}", gpu=g, gpu_count=8) for i in range(16)])
    q = gpurent.Request(request_id="r", models=["a", "b"], providers=[bytes(32)])
    bad = o.encode()[:-3]
    for _ in range(300):
        cycle(o, q, bad)
    gc.collect()
    before = c_heap_in_use()
    for _ in range(3000):
        cycle(o, q, bad)
    gc.collect()
    grown = c_heap_in_use() - before
    # One leaked offer buffer per cycle would be ~2 MB here.
    assert grown < 256 * 1024, f"C heap grew by {grown} bytes over 3000 cycles"
