"""The flat nearest-line index of the snap index: exact nearest lines, ties by rank then row."""

from __future__ import annotations

import numpy as np
import shapely

from apgeo.routing.segment_index import SegmentIndex


def _index_of(lines: list[shapely.LineString]) -> SegmentIndex:
    coords, which = shapely.get_coordinates(np.asarray(lines, dtype=object), return_index=True)
    return SegmentIndex.from_vertices(np.bincount(which, minlength=len(lines)), coords)


def _random_lines(rng: np.random.Generator, n: int) -> list[shapely.LineString]:
    lines = []
    for _ in range(n):
        k = int(rng.integers(2, 6))
        start = rng.uniform(0, 5_000, 2)
        # mostly short streets, a few long straight roads (cut into pieces by the index)
        step = rng.normal(0, 2_000 if rng.random() < 0.05 else 40, (k - 1, 2))
        lines.append(shapely.LineString(np.vstack([start, start + np.cumsum(step, axis=0)])))
    return lines


def test_nearest_matches_brute_force_distances() -> None:
    rng = np.random.default_rng(3)
    lines = _random_lines(rng, 400)
    index = _index_of(lines)
    assert len(index) == 400
    x, y = rng.uniform(-1_000, 6_000, 500), rng.uniform(-1_000, 6_000, 500)
    rows, dist = index.nearest(x, y)
    pts = shapely.points(x, y)
    all_d = shapely.distance(pts[:, None], np.asarray(lines, dtype=object)[None, :])
    assert np.array_equal(dist, all_d.min(axis=1))
    assert np.array_equal(rows, all_d.argmin(axis=1))  # no ties among random lines
    back = index.lines(rows)
    assert all(a.equals_exact(lines[r], 0) for a, r in zip(back, rows, strict=True))


def test_far_points_and_empty_index() -> None:
    index = _index_of([shapely.LineString([(0, 0), (10, 0)]), shapely.LineString([(0, 5), (0, 9)])])
    rows, dist = index.nearest(np.array([1e6, 3.0]), np.array([-1e6, -4.0]))
    assert rows.tolist() == [0, 0]
    assert dist[1] == 4.0
    assert dist[0] == shapely.distance(shapely.Point(1e6, -1e6), shapely.Point(10, 0))
    empty = SegmentIndex.from_vertices(np.zeros(0, dtype=np.int64), np.zeros((0, 2)))
    rows, dist = empty.nearest(np.array([1.0]), np.array([2.0]))
    assert rows.tolist() == [-1] and np.isinf(dist).all()


def test_equidistant_lines_by_rank_then_row() -> None:
    # four streets meeting at (0, 0); a point on the junction is at distance 0 of all
    lines = [
        shapely.LineString([(0, 0), (100, 0)]),
        shapely.LineString([(0, 0), (0, 100)]),
        shapely.LineString([(-100, 0), (0, 0)]),
        shapely.LineString([(0, -100), (0, 0)]),
    ]
    index = _index_of(lines)
    x, y = np.array([0.0, -30.0]), np.array([0.0, -30.0])  # the second: nearest to the node
    rows, dist = index.nearest(x, y)
    assert rows.tolist() == [0, 2] and dist[0] == 0.0
    rows, _ = index.nearest(x, y, rank=np.array([1, 1, 0, 1]))
    assert rows.tolist() == [2, 2]


def test_degenerate_and_repeated_vertices() -> None:
    lines = [
        shapely.LineString([(5, 5), (5, 5)]),  # zero length
        shapely.LineString([(0, 0), (0, 0), (10, 0), (10, 0)]),
    ]
    index = _index_of(lines)
    rows, dist = index.nearest(np.array([5.0, 5.0]), np.array([6.0, -1.0]))
    assert rows.tolist() == [0, 1]
    assert dist.tolist() == [1.0, 1.0]


def test_queries_in_small_chunks_and_far_points(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import apgeo.routing.segment_index as module

    monkeypatch.setattr(module, "_MAX_PAIRS", 64)  # several chunks and rounds
    rng = np.random.default_rng(8)
    # a straight boundary of many equal segments: far points are nearly equidistant to many
    lines = [shapely.LineString([(i * 10.0, 0.0), (i * 10.0 + 10.0, 0.0)]) for i in range(300)]
    lines += _random_lines(rng, 100)
    index = _index_of(lines)
    x = np.concatenate([rng.uniform(0, 3_000, 50), rng.uniform(-1e5, 1e5, 20)])
    y = np.concatenate([rng.uniform(-50, 50, 50), np.full(20, -2e5)])
    rows, dist = index.nearest(x, y)
    all_d = shapely.distance(shapely.points(x, y)[:, None], np.asarray(lines, dtype=object)[None, :])
    assert np.array_equal(dist, all_d.min(axis=1))
    best = all_d == all_d.min(axis=1)[:, None]
    assert np.array_equal(rows, best.argmax(axis=1))  # the first of equidistant lines
