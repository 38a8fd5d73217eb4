"""A spinning Python thread that shows whether a call releases the GIL:
while a call holds the GIL the spinner only runs in switch-interval slices."""
import contextlib
import sys
import threading
import time


class Spinner:
    def __init__(self):
        self.count = 0
        self._stop = threading.Event()

    def _spin(self):
        while not self._stop.is_set():
            self.count += 1

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
