"""The compact node id -> row mapping of travel-time engines behaves like the dict it replaces."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from apgeo.network.arrays import _object_array
from apgeo.routing.node_index import NodeIndex, node_rows


@pytest.mark.parametrize(
    "ids",
    [
        [10, 3, 2**62, -5, 7],  # OpenStreetMap-like integer ids, any order
        ["a", "b", "c"],
        [(1, 2), (3, 4)],
        [1, "mixed", 2.5],
        [2**70, 1],  # beyond int64
        [],
    ],
)
def test_node_index_matches_a_dict(ids: list) -> None:  # type: ignore[type-arg]
    index = NodeIndex(_object_array(ids))
    reference = {n: i for i, n in enumerate(ids)}
    assert len(index) == len(reference)
    assert list(index) == list(reference)
    assert dict(index) == reference
    assert index == reference
    for n in ids:
        assert index[n] == reference[n] and n in index
    for missing in (11, "z", (9, 9), 3.5, None):
        if missing not in reference:
            assert missing not in index
            with pytest.raises(KeyError):
                index[missing]  # type: ignore[index]
    assert index.get("nope", -1) == -1
    assert dict(pickle.loads(pickle.dumps(index))) == reference


def test_integer_ids_found_whatever_their_type() -> None:
    index = NodeIndex(_object_array([5, 9, 1]))
    assert index[np.int64(9)] == 1 and index[np.int32(1)] == 2 and index[5.0] == 0
    assert 5.5 not in index
    assert [index[n] for n in np.array([1, 5, 9])] == [2, 0, 1]


def test_rows_of_many_ids_at_once_equal_one_by_one() -> None:
    ids = np.array([907, -3, 2**40, 15, 0], dtype=np.int64)
    index = NodeIndex(_object_array(ids.tolist()))
    want = [index[k] for k in (15, 907, 0, 15)]
    for keys in (
        np.array([15, 907, 0, 15]),
        np.array([15, 907, 0, 15], dtype=np.uint32),
        _object_array([15, 907, 0, 15]),
        [15, 907, 0, 15],
    ):
        got = index.rows(keys)
        assert got.dtype == np.int64 and got.tolist() == want
    assert node_rows(index, np.array([2**40, -3])).tolist() == [2, 1]
    assert node_rows({"a": 0, "b": 1}, ["b", "a"]).tolist() == [1, 0]
    with pytest.raises(KeyError):
        index.rows(np.array([15, 16]))
    with pytest.raises(KeyError):
        index.rows(_object_array([15, "x"]))
    strings = NodeIndex(_object_array(["a", "b"]))
    assert strings.rows(_object_array(["b", "a", "b"])).tolist() == [1, 0, 1]
    assert index.rows(np.array([], dtype=np.int64)).tolist() == []
