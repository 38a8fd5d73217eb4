"""Ownership of opaque C handles."""
from __future__ import annotations

import threading
from typing import Any, Callable, Optional


class Handle:
    """Owns one opaque C handle and frees it exactly once.

    Subclasses set ``_free`` to the capi function that frees the handle
    (``capi.cancel_free``) and pass the pointer from ``capi.<x>_new()`` to
    ``__init__``. ``close()`` frees it; so do ``with`` and garbage collection
    (a safety net, not a plan). Using a closed handle raises ``ValueError``.
    """

    _free: Callable[[Any], None]

    def __init__(self, ptr: Any) -> None:
        self._ptr: Optional[Any] = ptr
        self._lock = threading.Lock()

    @property
    def ptr(self) -> Any:
        """The capi pointer, for calls into gpurent.capi."""
        p = self._ptr
        if p is None:
            raise ValueError(f"{type(self).__name__} is closed")
        return p

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def close(self) -> None:
        """Free the C handle. Closing twice is harmless."""
        with self._lock:
            p, self._ptr = self._ptr, None
        if p is not None:
            type(self)._free(p)

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_ptr", None) is not None:
            self.close()
