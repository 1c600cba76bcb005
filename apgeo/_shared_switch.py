"""A process-wide setting that threads share: set by the first thread to need it and put
back by the last one done (:class:`SharedSwitch`).

The garbage collector and file descriptor 1 belong to the process, not to a thread. A
thread that saved such a setting, changed it and put its saved value back when done would,
with another thread inside at the same time, either undo the change under the other thread
or put back the changed value for good. Counting the threads inside avoids both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class SharedSwitch:
    """``turn_on()`` when the first thread enters :meth:`held`, ``turn_back(saved)`` with what
    it returned when the last one leaves.

    Parameters
    ----------
    turn_on
        Changes the setting and returns what ``turn_back`` needs to undo it.
    turn_back
        Puts the setting back, given what ``turn_on`` returned.
    """

    def __init__(self, turn_on: Callable[[], Any], turn_back: Callable[[Any], None]) -> None:
        self._turn_on, self._turn_back = turn_on, turn_back
        self._lock = threading.Lock()
        self._holders = 0
        self._saved: Any = None

    @contextmanager
    def held(self) -> Iterator[None]:
        """The setting is on for the duration, whatever other threads do meanwhile.

        Returns
        -------
        Iterator[None]
            A context manager.
        """
        with self._lock:
            if self._holders == 0:
                self._saved = self._turn_on()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0:
                    saved, self._saved = self._saved, None
                    self._turn_back(saved)


__all__ = ["SharedSwitch"]
