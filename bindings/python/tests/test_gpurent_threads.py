"""Long calls release the GIL: a Python thread keeps running while another
thread is inside the C library.

Timestamps taken around a call cannot show this (the interpreter may switch
threads right after the call returns, before the second timestamp), so the
test counts the other thread's progress during one long call instead. With
the GIL held, that thread can only run during the ~1 ms switch interval
after the call; with the GIL released it runs during the whole call."""
import threading
import time

import gpurent
from gil_spinner import spinner


def big_value(n):
    """A canonical array of n zeros: checking it walks n values in C."""
    return b"\xdd" + n.to_bytes(4, "big") + b"\x00" * n


def _long_input(target_s=0.25):
    n = 1_000_000
    while True:
        data = big_value(n)
        t0 = time.perf_counter()
        gpurent.check_canonical(data)
        took = time.perf_counter() - t0
        if took >= target_s or n >= 256_000_000:
            return data, took
        n = min(256_000_000, int(n * target_s / max(took, 1e-4) * 1.2) + 1)


def test_python_thread_progresses_during_a_long_call():
    data, took = _long_input()
    with spinner() as s:
        # The spinner's rate while this thread sleeps (GIL free), then its
        # progress while this thread is inside check_canonical.
        free_rate = s.free_steps(took)
        _, during, _ = s.during(lambda: gpurent.check_canonical(data))
    assert free_rate > 0
    # Held GIL: at most a few switch intervals (~1% of the call). Released:
    # most of the call, unless the machine starves the spinner entirely.
    assert during > free_rate * 0.08, f"spinner made {during} steps in the call, {free_rate} when free"


def test_two_threads_check_concurrently_and_correctly():
    data = big_value(2_000_000)
    bad = data[:-1]
    results = []

    def work():
        for _ in range(3):
            gpurent.check_canonical(data)
            try:
                gpurent.check_canonical(bad)
            except gpurent.TruncatedError as e:
                results.append(e.detail)

    ts = [threading.Thread(target=work) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(results) == 6 and all("ends inside" in r or "remain" in r for r in results)
