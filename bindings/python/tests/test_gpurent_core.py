"""Core API through the binding: init, version, statuses, last error,
buffers, free, cancel tokens, and the exception hierarchy."""
import re
import threading

import pytest

import gpurent
from gpurent import capi


def test_init_and_version():
    assert gpurent.init() is None
    assert gpurent.init() is None  # idempotent
    n = gpurent.version_number()
    assert n == capi.VERSION_MAJOR * 10000 + capi.VERSION_MINOR * 100 + capi.VERSION_PATCH
    s = gpurent.version_string()
    assert s == f"{capi.VERSION_MAJOR}.{capi.VERSION_MINOR}.{capi.VERSION_PATCH}"
    assert gpurent.__version__ == s


def test_strerror_and_status_name():
    assert gpurent.strerror(capi.E_NONCANONICAL) == "non-canonical encoding"
    assert gpurent.strerror(0) == "success"
    assert gpurent.strerror(-9999) == "unknown status"
    assert gpurent.status_name(capi.E_LIMIT) == "GPURENT_E_LIMIT"
    assert gpurent.status_name(12345) == "GPURENT_E_UNKNOWN"


def test_every_status_has_its_own_class():
    codes = {getattr(capi, n): n for n in dir(capi) if n.startswith("E_")}
    assert len(codes) >= 40
    for code, name in codes.items():
        cls = gpurent.class_for_status(code)
        assert cls is gpurent.STATUS_CLASSES[code], name
        assert issubclass(cls, gpurent.Error)
        assert gpurent.status_name(code) == "GPURENT_" + name
        assert cls.__doc__


def test_groups_and_builtin_bases():
    assert issubclass(gpurent.NonCanonicalError, gpurent.WireError)
    assert issubclass(gpurent.WireError, ValueError)
    assert issubclass(gpurent.InvalidArgError, ValueError)
    assert issubclass(gpurent.NoMemoryError, MemoryError)
    assert issubclass(gpurent.NotFoundError, LookupError)
    assert issubclass(gpurent.TimedOutError, TimeoutError)
    assert issubclass(gpurent.BadSignatureError, gpurent.AttestError)
    assert issubclass(gpurent.NoDriverError, gpurent.ProbeError)
    assert issubclass(gpurent.UnknownProviderError, gpurent.TierError)
    assert issubclass(gpurent.InfeasibleError, gpurent.MatchError)
    # A status the binding does not know yet falls back to its module's group.
    assert gpurent.class_for_status(-199) is gpurent.WireError
    assert gpurent.class_for_status(-250) is gpurent.AttestError
    assert gpurent.class_for_status(-99) is gpurent.CoreError


def test_exception_carries_status_name_and_detail():
    with pytest.raises(gpurent.TruncatedError) as ei:
        gpurent.GPU.decode(b"\xde\x00\x16\x00")
    e = ei.value
    assert e.status == capi.E_TRUNCATED
    assert e.name == "GPURENT_E_TRUNCATED"
    assert e.message == gpurent.strerror(capi.E_TRUNCATED)
    assert e.detail.startswith("gpu")
    assert str(e) == f"GPURENT_E_TRUNCATED: {e.message}: {e.detail}"
    # The raw per-thread accessors agree with what the exception captured.
    assert gpurent.last_error_status() == capi.E_TRUNCATED
    assert gpurent.last_error_message() == e.detail
    gpurent.error_clear()
    assert gpurent.last_error_status() == 0
    assert gpurent.last_error_message() == ""


def test_detail_is_per_thread():
    """Each thread's exception carries its own failure's detail even when
    threads fail at the same time (the wrapper reads it on the failing
    thread, before anything else can run there)."""
    errors, barrier = {}, threading.Barrier(4)

    def work(i):
        barrier.wait()
        for _ in range(300):
            try:
                gpurent.Request(request_id=f"t{i}", gpu_count=i + 2, gang_nodes=i + 3).validate()
            except gpurent.InvalidFieldError as e:
                errors.setdefault(i, set()).add(e.detail)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for i in range(4):
        assert errors[i] == {f"request.gang_nodes: {i + 3} does not divide gpu_count {i + 2}"}


def test_buf_and_free_low_level():
    b = capi.buf()
    assert b.data is None and b.len == 0
    capi.buf_free(b)  # an empty buffer is fine
    assert b.len == 0
    capi.buf_free(None)  # NULL is accepted
    capi.free(None)


def test_cancel_token():
    with gpurent.Cancel() as c:
        assert not c.requested()
        c.request()
        assert c.requested()
        c.reset()
        assert not c.requested()
    assert c.closed
    c.close()  # twice is harmless
    with pytest.raises(ValueError, match="closed"):
        c.request()


def test_cancel_low_level():
    p = capi.cancel_new()
    assert capi.cancel_requested(p) == 0
    capi.cancel_request(p)
    assert capi.cancel_requested(p) == 1
    capi.cancel_reset(p)
    assert capi.cancel_requested(p) == 0
    capi.cancel_free(p)
    # NULL tokens are accepted and read as not set.
    capi.cancel_request(None)
    capi.cancel_reset(None)
    assert capi.cancel_requested(None) == 0
    capi.cancel_free(None)


def test_cancel_shared_between_threads():
    c = gpurent.Cancel()
    seen = threading.Event()

    def watcher():
        while not c.requested():
            pass
        seen.set()

    t = threading.Thread(target=watcher)
    t.start()
    c.request()
    t.join(5)
    assert seen.is_set()
    c.close()


def test_handle_freed_by_garbage_collection():
    import gc
    import weakref
    c = gpurent.Cancel()
    r = weakref.ref(c)
    del c
    gc.collect()
    assert r() is None


def test_capi_names_drop_the_prefix():
    public = [n for n in dir(capi) if not n.startswith("_")]
    assert not [n for n in public if n.lower().startswith("gpurent")]
    assert all(re.match(r"[A-Za-z]", n) for n in public)
