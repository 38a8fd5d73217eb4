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

# The handles the calling thread's running guarded calls hold: a stack in
# which each guarded call first pushes None (so a non-empty stack means
# "inside a guarded call") and at its end pops and releases what it added.
_tls = threading.local()

# Dunder methods that call into C and are guarded like ordinary methods
# (the others, such as __init__, __enter__, __exit__ and __del__, are not).
_GUARDED_DUNDERS = frozenset({"__len__", "__iter__", "__contains__", "__getitem__", "__bool__"})
_UNGUARDED = frozenset({"close"})


def _closed_error(what: str) -> InvalidArgError:
    st = capi.E_INVALID_ARG
    return InvalidArgError(st, capi.status_name(st), capi.strerror(st), f"{what} is closed")


def _held() -> List[Optional["Handle"]]:
    try:
        return _tls.held  # type: ignore[no-any-return]
    except AttributeError:
        held: List[Optional["Handle"]] = []
        _tls.held = held
        return held


def guarded(fn: F) -> F:
    """Run ``fn`` as one guarded call: every handle whose ``ptr`` it reads
    stays open (close() waits) until it returns. Handle methods get this
    automatically; module-level functions that take handles use it as a
    decorator."""
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            held = _tls.held
        except AttributeError:
            held = _held()
        mark = len(held)
        held.append(None)
        try:
            if args and isinstance(args[0], Handle):
                args[0]._hold(held)
            return fn(*args, **kwargs)
        finally:
            while len(held) > mark:
                h = held.pop()
                if h is not None:
                    with h._lock:
                        h._calls -= 1
                        if h._closing and not h._calls:
                            h._cond.notify_all()
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
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)  # close() waits on it
        self._calls = 0
        self._closing = False
        self._ptr: Optional[Any] = ptr

    # ---- the guard ----

    def _hold(self, held: List[Optional["Handle"]]) -> Any:
        """Count one call in flight on this handle for the running guarded
        call (once: a nested call that holds it already does not count
        again). Raises InvalidArgError when closing or closed."""
        if self in held:  # identity: handles do not define __eq__
            return self._ptr
        with self._lock:
            p = self._ptr
            if p is None or self._closing:
                raise _closed_error(type(self).__name__)
            self._calls += 1
        held.append(self)
        return p

    def _leave(self) -> None:
        with self._lock:
            self._calls -= 1
            if self._closing and not self._calls:
                self._cond.notify_all()

    @property
    def ptr(self) -> Any:
        """The capi pointer, for calls into gpurent.capi. Read inside a
        guarded call (any method of a handle class, or a function decorated
        with :func:`guarded`), it keeps this handle open until that call
        returns; read elsewhere, nothing stops another thread from closing
        it while you use it."""
        held = getattr(_tls, "held", None)
        if held:  # inside a guarded call
            return self._ptr if self in held else self._hold(held)
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
        if self in getattr(_tls, "held", ()):
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
