"""A spinning Python thread that shows whether a call releases the GIL:
while a call holds the GIL the spinner only runs in switch-interval slices.

Two measures. ``during`` counts the spinner's steps while a call runs: the
slices just before and after the call count too, so the call must last many
switch intervals (the existing tests use ~0.2 s calls). ``stall`` finds the
longest time the spinner made no step while a call ran: a call holding the
GIL stalls it for (nearly) the whole call, however short the call and
whatever happens at its edges; a call releasing it stalls it only for the
machine's own scheduling hiccups."""
import contextlib
import sys
import threading
import time


class Spinner:
    def __init__(self):
        self.count = 0
        self._stamps = None  # a list while stall() records step times
        self._stop = threading.Event()

    def _spin(self):
        clock = time.perf_counter
        while not self._stop.is_set():
            self.count += 1
            stamps = self._stamps
            if stamps is not None:
                stamps.append(clock())

    def free_steps(self, seconds):
        """Steps made while this thread sleeps (the GIL is free)."""
        c0 = self.count
        time.sleep(seconds)
        return self.count - c0

    def during(self, call):
        """Run call(); return (its result, steps made meanwhile, seconds taken)."""
        c0 = self.count
        t0 = time.perf_counter()
        result = call()
        took = time.perf_counter() - t0
        return result, self.count - c0, took

    def stall(self, call):
        """Run call(); return (its result, the longest time in seconds within
        it that the spinner made no step, seconds taken)."""
        stamps = []
        self._stamps = stamps
        t0 = time.perf_counter()
        result = call()
        t1 = time.perf_counter()
        self._stamps = None
        inside = [t0] + [t for t in stamps if t0 < t < t1] + [t1]
        return result, max(b - a for a, b in zip(inside, inside[1:])), t1 - t0


@contextlib.contextmanager
def spinner():
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    s = Spinner()
    t = threading.Thread(target=s._spin)
    t.start()
    try:
        yield s
    finally:
        s._stop.set()
        t.join()
        sys.setswitchinterval(old)
