"""Ownership of opaque C handles, and the guard that keeps a handle alive
while calls into C use it.

Every handle class (Key, TrustStore, Market, TierEngine, Cancel, ...)
derives from :class:`Handle`, so the rules below are written once:

* One owner. ``copy.copy``, ``copy.deepcopy`` and ``pickle`` raise
  ``TypeError``: a copy would free the same C pointer a second time.
* Calls in flight. Every method of a handle class is wrapped (see
  ``Handle.__init_subclass__``): while it runs, the handle and every other
  handle whose ``ptr`` it reads (a TrustStore passed to
  ``TierEngine.record_signed``, a Cancel passed to ``verify_many``) count
  one call in flight. ``close()`` marks the handle closing, waits until no
  call is in flight, then frees it. A call that starts on a closing or
  closed handle raises :class:`gpurent.InvalidArgError` ("... is closed").
  Many calls release the GIL, so without this a ``close()`` from another
  thread would free memory a running C call still reads.
"""
from __future__ import annotations

import functools
import threading
import types
from typing import Any, Callable, List, Optional, TypeVar

from . import capi
from .errors import InvalidArgError

F = TypeVar("F", bound=Callable[..., Any])

# The handles the calling thread's running guarded calls hold: a stack,
# each guarded call releases what it added.
_tls = threading.local()

# Dunder methods that call into C and are guarded like ordinary methods
# (the others, such as __init__, __enter__, __exit__ and __del__, are not).
_GUARDED_DUNDERS = frozenset({"__len__", "__iter__", "__contains__", "__getitem__", "__bool__"})
_UNGUARDED = frozenset({"close"})


def _closed_error(what: str) -> InvalidArgError:
    st = capi.E_INVALID_ARG
    return InvalidArgError(st, capi.status_name(st), capi.strerror(st), f"{what} is closed")


def _held() -> List["Handle"]:
    held = getattr(_tls, "held", None)
    if held is None:
        held = _tls.held = []
    return held


def _release_from(held: List["Handle"], mark: int) -> None:
    while len(held) > mark:
        held.pop()._leave()


def guarded(fn: F) -> F:
    """Run ``fn`` as one guarded call: every handle whose ``ptr`` it reads
    stays open (close() waits) until it returns. Handle methods get this
    automatically; module-level functions that take handles use it as a
    decorator."""
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        held = _held()
        mark = len(held)
        _tls.depth = getattr(_tls, "depth", 0) + 1
        try:
            if args and isinstance(args[0], Handle):
                args[0]._hold(held)
            return fn(*args, **kwargs)
        finally:
            _tls.depth -= 1
            _release_from(held, mark)
    call.__gpurent_guarded__ = True  # type: ignore[attr-defined]
    return call  # type: ignore[return-value]


class Handle:
    """Owns one opaque C handle and frees it exactly once.

    Subclasses set ``_free`` to the capi function that frees the handle
    (``capi.cancel_free``) and pass the pointer from ``capi.<x>_new()`` to
    ``__init__``. ``close()`` frees it once no call is using it; so do
    ``with`` and garbage collection (a safety net, not a plan). Using a
    closed handle raises :class:`gpurent.InvalidArgError` (a
    ``ValueError``). Handles cannot be copied or pickled (``TypeError``).
    """

    _free: Callable[[Any], None]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            if name in _UNGUARDED or (name.startswith("__") and name not in _GUARDED_DUNDERS):
                continue
            if isinstance(value, types.FunctionType) and not getattr(value, "__gpurent_guarded__", False):
                setattr(cls, name, guarded(value))
            elif isinstance(value, property) and value.fget is not None \
                    and not getattr(value.fget, "__gpurent_guarded__", False):
                setattr(cls, name, property(guarded(value.fget), value.fset, value.fdel, value.__doc__))

    def __init__(self, ptr: Any) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._calls = 0
        self._closing = False
        self._ptr: Optional[Any] = ptr

    # ---- the guard ----

    def _hold(self, held: List["Handle"]) -> Any:
        """Count one call in flight on this handle for the running guarded
        call (once: a nested call that holds it already does not count
        again). Raises InvalidArgError when closing or closed."""
        for h in held:
            if h is self:
                return self._ptr
        with self._cond:
            p = self._ptr
            if p is None or self._closing:
                raise _closed_error(type(self).__name__)
            self._calls += 1
        held.append(self)
        return p

    def _leave(self) -> None:
        with self._cond:
            self._calls -= 1
            if self._calls == 0 and self._closing:
                self._cond.notify_all()

    @property
    def ptr(self) -> Any:
        """The capi pointer, for calls into gpurent.capi. Read inside a
        guarded call (any method of a handle class, or a function decorated
        with :func:`guarded`), it keeps this handle open until that call
        returns; read elsewhere, nothing stops another thread from closing
        it while you use it."""
        if getattr(_tls, "depth", 0) > 0:
            return self._hold(_held())
        p = self._ptr
        if p is None:
            raise _closed_error(type(self).__name__)
        return p

    @property
    def closed(self) -> bool:
        """Whether close() has freed (or is about to free) the handle."""
        return self._ptr is None or self._closing

    def close(self) -> None:
        """Free the C handle once no call is using it: waits for calls in
        flight on other threads; calls that start after this raise
        InvalidArgError. Closing twice is harmless. Calling close() from a
        call that uses the same handle (on the same thread) raises
        InvalidArgError instead of waiting for itself."""
        cond = getattr(self, "_cond", None)
        if cond is None:  # __init__ did not get that far
            return
        if any(h is self for h in getattr(_tls, "held", ())):
            st = capi.E_INVALID_ARG
            raise InvalidArgError(st, capi.status_name(st), capi.strerror(st),
                                  f"{type(self).__name__}.close() inside a call that uses it")
        with cond:
            if self._ptr is None:
                return
            self._closing = True
            while self._calls:
                cond.wait()
            p, self._ptr = self._ptr, None
            if p is not None:
                type(self)._free(p)

    # ---- one owner ----

    def _refuse_copy(self, *args: Any) -> Any:
        raise TypeError(f"{type(self).__name__} owns a C handle and cannot be copied or pickled; "
                        "share the object itself (or create a new one)")

    __copy__ = _refuse_copy
    __deepcopy__ = _refuse_copy
    __reduce__ = _refuse_copy
    __reduce_ex__ = _refuse_copy
    __getstate__ = _refuse_copy

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_ptr", None) is not None:
            self.close()
