"""Node id -> matrix row of a travel-time engine, compact for integer ids.

A dict of a county network's node ids costs about 80 bytes per node (the hash table and
one boxed int per row). OpenStreetMap node ids are integers: :class:`NodeIndex` keeps
them as a sorted int64 array with the rows in that order (16 bytes per node) and finds
an id by binary search; other ids (strings, tuples) use a dict.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from typing import Any

import numpy as np


def _as_int(key: Any) -> int | None:
    """``key`` as an int when it equals one (as a dict lookup would match it), else None."""
    if isinstance(key, (bool, np.bool_)):
        return int(key)
    if isinstance(key, (int, np.integer)):
        return int(key)
    if isinstance(key, (float, np.floating)) and float(key).is_integer():
        return int(key)
    return None


class NodeIndex(Mapping[Hashable, int]):
    """A read-only mapping node id -> row, for ids given in row order (all distinct)."""

    __slots__ = ("_dict", "_ids", "_rows", "_sorted")

    def __init__(self, ids: np.ndarray) -> None:
        self._ids = ids
        self._sorted: np.ndarray | None = None
        self._rows: np.ndarray | None = None
        self._dict: dict[Hashable, int] | None = None
        values = ids.tolist()
        try:
            as_int = np.array(values) if values else None
        except (ValueError, OverflowError):  # ragged tuples, huge ints
            as_int = None
        if as_int is not None and as_int.ndim == 1 and as_int.dtype.kind == "i":
            as_int = as_int.astype(np.int64, copy=False)
            order = np.argsort(as_int, kind="stable")
            self._sorted = as_int[order]
            self._rows = order
        else:
            self._dict = {n: i for i, n in enumerate(values)}

    def __getitem__(self, key: Hashable) -> int:
        if self._dict is not None:
            return self._dict[key]
        assert self._sorted is not None and self._rows is not None
        k = _as_int(key)
        if k is not None and -(2**63) <= k < 2**63:
            at = int(np.searchsorted(self._sorted, k))
            if at < len(self._sorted) and int(self._sorted[at]) == k:
                return int(self._rows[at])
        raise KeyError(key)

    def rows(self, keys: Any) -> np.ndarray:
        """The rows of many ids at once (int64 array); ``KeyError`` for an unknown id.

        Integer ids are found by one vectorised binary search; other ids one by one.

        Parameters
        ----------
        keys
            Node ids (any sequence or array).

        Returns
        -------
        numpy.ndarray
            The row of each id.
        """
        values = np.asarray(keys) if not isinstance(keys, np.ndarray) else keys
        if self._dict is None and values.dtype == object and len(values):
            try:  # boxed ints (an object column of a table)
                as_array = np.array(values.tolist())
            except (ValueError, OverflowError):
                as_array = values
            if as_array.ndim == 1 and as_array.dtype.kind in "iu":
                values = as_array
        if self._dict is None and values.ndim == 1 and values.dtype.kind in "iu":
            assert self._sorted is not None and self._rows is not None
            if values.dtype.kind == "u" and len(values) and int(values.max()) >= 2**63:
                return np.array([self[k] for k in values.tolist()], dtype=np.int64)
            wanted = values.astype(np.int64, copy=False)
            at = np.searchsorted(self._sorted, wanted)
            found = at < len(self._sorted)
            found[found] = self._sorted[at[found]] == wanted[found]
            if not found.all():
                raise KeyError(values[np.flatnonzero(~found)[0]].item())
            return self._rows[at].astype(np.int64, copy=False)
        return np.array([self[k] for k in values.tolist()], dtype=np.int64)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except (KeyError, TypeError):
            return False
        return True

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._ids.tolist())

    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        return f"NodeIndex({len(self)} nodes)"


def node_rows(node_index: Mapping[Hashable, int], keys: Any) -> np.ndarray:
    """Rows of ``keys`` in ``node_index`` (a :class:`NodeIndex` or any mapping).

    Parameters
    ----------
    node_index
        Node id -> row.
    keys
        Node ids.

    Returns
    -------
    numpy.ndarray
        int64 rows, one per key.
    """
    if isinstance(node_index, NodeIndex):
        return node_index.rows(keys)
    return np.array([node_index[k] for k in keys], dtype=np.int64)


__all__ = ["NodeIndex", "node_rows"]
