"""Two threads inside one context manager with overlapping spans, for tests of state a
process shares between threads (standard output, the garbage collector)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager


def overlapping(
    context: Callable[[], AbstractContextManager[object]],
    inside_first: Callable[[], object] = lambda: None,
    inside_second: Callable[[], object] = lambda: None,
) -> None:
    """Thread A enters ``context()``, then thread B; A leaves, then B (A in, B in, A out,
    B out). ``inside_first`` runs in A once B is in; ``inside_second`` in B once A is out."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with context():
            a_in.set()
            b_in.wait(5)
            inside_first()
        a_out.set()

    def second() -> None:
        a_in.wait(5)
        with context():
            b_in.set()
            a_out.wait(5)
            inside_second()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
