"""Tests for apgeo.catchments: hand-worked grids, nesting, hulls, service areas, fallback, OSM."""

from __future__ import annotations

import itertools
import math
import warnings
from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apgeo import ApgeoValueError, ApgeoWarning, CRSError, SnapError
from apgeo._errors import MissingColumnError
from apgeo.analysis.catchments import CHILDREN_METHOD_TEXT, catchments, straight_line_catchments
from apgeo.analysis.service_areas import nearest_provider_table, service_areas
from apgeo.network.synthetic import grid_network
from apgeo.routing.snap import snap_points
from apgeo.routing.travel_times import TravelTimeEngine

try:
    from tests._network_fixtures import X0, Y0, pbf_network
except ImportError:  # tests/ is not a package
    from _network_fixtures import X0, Y0, pbf_network

BNG = "EPSG:27700"


@cache
def _grid_engine(n: int = 5, mode: str = "walk") -> TravelTimeEngine:
    """A n x n grid of 100 m streets (walk: 100 m = 75 s) starting at (X0, Y0)."""
    return TravelTimeEngine.from_graph(grid_network(n, n, mode=mode))  # type: ignore[arg-type]


def _providers(
    coords: list[tuple[float, float]], ids: list[str] | None = None, crs: str | None = BNG
) -> gpd.GeoDataFrame:
    """Providers at grid offsets (metres from the grid origin)."""
    names = ids if ids is not None else [f"S{i}" for i in range(len(coords))]
    return gpd.GeoDataFrame(
        {"site_id": names, "provider_id": [f"P{n}" for n in names]},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in coords],
        crs=crs,
    )


def _pt(x: float, y: float) -> shapely.Point:
    return shapely.Point(X0 + x, Y0 + y)


# ---- hand-worked grid ------------------------------------------------------------------------


def test_grid_reaches_nodes_within_200_m_network_distance() -> None:
    engine = _grid_engine()
    # 150 s at 4.8 km/h = 200 m; provider at the south-west corner node
    out = catchments(engine, _providers([(0, 0)]), thresholds_min=2.5, buffer_m=5.0)
    poly = out.geometry.iloc[0]
    reached = [(c, r) for r in range(5) for c in range(5) if 100 * (c + r) <= 200]
    for c, r in reached:
        assert poly.contains(_pt(100 * c, 100 * r))
    # points along fully reached edges
    for x, y in [(50, 0), (150, 0), (0, 150), (100, 50), (50, 100), (100, 99)]:
        assert poly.contains(_pt(x, y)), (x, y)
    # 250 m along the network (via (2, 0) then up, or along the bottom row), and beyond
    for x, y in [(200, 50), (250, 0), (50, 200), (150, 100), (300, 300)]:
        assert not poly.contains(_pt(x, y)), (x, y)
    assert out.crs == BNG
    assert out.geometry.iloc[0].is_valid


def test_grid_partial_edge_cut_at_exact_time() -> None:
    engine = _grid_engine()
    # 120 s at 4.8 km/h = 160 m along the bottom row; buffer 5 m
    poly = catchments(engine, _providers([(0, 0)]), thresholds_min=2, buffer_m=5.0).geometry.iloc[0]
    assert poly.contains(_pt(150, 0))
    assert poly.contains(_pt(164, 0))  # 160 m + 4 m of buffer
    assert not poly.contains(_pt(166, 0))
    assert not poly.contains(_pt(220, 0))
    assert poly.contains(_pt(0, 150))  # the partial edge up the west side too
    assert poly.contains(_pt(100, 55))  # 100 m east then 55 m north: 155 m
    assert not poly.contains(_pt(100, 70))  # 170 m


def test_provider_mid_edge_reaches_both_ways_and_hull_is_degenerate() -> None:
    engine = _grid_engine()
    providers = _providers([(50, 0)])
    # 30 s = 40 m each way from the snapped point: [10, 90] m along the street (+5 m buffer)
    edges = catchments(engine, providers, thresholds_min=0.5, buffer_m=5.0)
    poly = edges.geometry.iloc[0]
    for x in (12, 50, 88):
        assert poly.contains(_pt(x, 0))
    for x in (3, 97):
        assert not poly.contains(_pt(x, 0))
    with pytest.warns(ApgeoWarning, match="convex hull is degenerate"):
        hull = catchments(engine, providers, thresholds_min=0.5, buffer_m=5.0, method="convex_hull")
    assert hull.geometry.iloc[0].geom_type == "Polygon"
    assert hull.geometry.iloc[0].symmetric_difference(poly).area < 1e-6


def test_access_leg_is_drawn_and_timed() -> None:
    engine = _grid_engine()
    # 30 m south of the bottom row: 22.5 s access walk, then 37.5 s = 50 m each way
    out = catchments(engine, _providers([(50, -30)]), thresholds_min=1, buffer_m=5.0)
    poly = out.geometry.iloc[0]
    assert poly.contains(_pt(50, -30))  # the provider itself
    assert poly.contains(_pt(50, -15))
    assert poly.contains(_pt(2, 0)) and poly.contains(_pt(98, 0))
    assert not poly.contains(_pt(0, 20)) and not poly.contains(_pt(100, 20))


def test_direction_to_differs_on_one_way_drive_loop() -> None:
    # 2 x 2 drive grid, one-way loop 0 -> 1 -> 3 -> 2 -> 0; 100 m at 30 mph = 7.46 s
    G = grid_network(2, 2, mode="drive", one_way=[(0, 1), (1, 3), (3, 2), (2, 0)])
    engine = TravelTimeEngine.from_graph(G)
    providers = _providers([(0, 0)])
    kwargs = {"thresholds_min": 10 / 60, "buffer_m": 5.0}
    out_from = catchments(engine, providers, direction="from", **kwargs).geometry.iloc[0]
    out_to = catchments(engine, providers, direction="to", **kwargs).geometry.iloc[0]
    assert out_from.contains(_pt(50, 0)) and out_from.contains(_pt(100, 20))
    assert not out_from.contains(_pt(0, 50))
    assert out_to.contains(_pt(0, 50)) and out_to.contains(_pt(20, 100))
    assert not out_to.contains(_pt(50, 0))


def test_walk_direction_is_symmetric() -> None:
    engine = _grid_engine()
    providers = _providers([(130, 200)])
    a = catchments(engine, providers, thresholds_min=(2, 4), buffer_m=5.0, direction="from")
    b = catchments(engine, providers, thresholds_min=(2, 4), buffer_m=5.0, direction="to")
    for ga, gb in zip(a.geometry, b.geometry, strict=True):
        assert ga.symmetric_difference(gb).area < 1.0


def test_real_holes_kept_small_holes_filled() -> None:
    engine = _grid_engine()
    providers = _providers([(0, 0)])
    big = catchments(engine, providers, thresholds_min=20, buffer_m=5.0).geometry.iloc[0]
    assert len(big.interiors) == 16  # 16 blocks of 90 m x 90 m = 8,100 m² each
    assert not big.contains(_pt(50, 50))
    filled = catchments(
        engine, providers, thresholds_min=20, buffer_m=5.0, min_area_m2=10_000
    ).geometry.iloc[0]
    assert len(filled.interiors) == 0
    assert filled.contains(_pt(50, 50))
    # a wide band fills the blocks entirely: one square of 500 m x 500 m
    wide = catchments(engine, providers, thresholds_min=20, buffer_m=50.0).geometry.iloc[0]
    assert wide.area == pytest.approx(500 * 500 - (4 - math.pi) * 50**2, rel=1e-2)


def test_output_columns_sorted_and_inputs_untouched() -> None:
    engine = _grid_engine()
    providers = _providers([(300, 300), (0, 0)], ids=["Z", "A"])
    before = providers.copy()
    out = catchments(engine, providers, thresholds_min=(1, 2), buffer_m=5.0)
    assert list(out.columns) == [
        "provider_id",
        "site_id",
        "mode",
        "threshold_min",
        "method",
        "area_km2",
        "geometry",
    ]
    assert list(out["site_id"]) == ["A", "A", "Z", "Z"]
    assert list(out["threshold_min"]) == [1.0, 2.0, 1.0, 2.0]
    assert list(out["provider_id"]) == ["PA", "PA", "PZ", "PZ"]
    assert (out["mode"] == "walk").all() and (out["method"] == "edges").all()
    np.testing.assert_allclose(out["area_km2"], out.geometry.area / 1e6)
    pd.testing.assert_frame_equal(providers, before)
    again = catchments(engine, providers, thresholds_min=(1, 2), buffer_m=5.0)
    assert all(a.equals_exact(b, 0) for a, b in zip(out.geometry, again.geometry, strict=True))


def test_default_buffer_by_mode() -> None:
    engine = _grid_engine()
    out = catchments(engine, _providers([(200, 200)]), thresholds_min=0.5)
    # 30 s of walking = 40 m each way around the snapped node; default walk band 50 m
    assert out.geometry.iloc[0].contains(_pt(200, 200 + 40 + 49))
    assert not out.geometry.iloc[0].contains(_pt(200, 200 + 40 + 51))


# ---- nesting (property) ----------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    thresholds=st.lists(
        st.floats(min_value=0.2, max_value=8.0, allow_nan=False),
        min_size=2,
        max_size=4,
        unique=True,
    ),
    x=st.floats(min_value=-20, max_value=420),
    y=st.floats(min_value=-20, max_value=420),
    method=st.sampled_from(["edges", "convex_hull"]),
)
def test_nested_thresholds_give_nested_polygons(
    thresholds: list[float], x: float, y: float, method: str
) -> None:
    engine = _grid_engine()
    values = sorted(thresholds)
    if min(np.diff(values)) < 1e-6:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)  # degenerate hulls at tiny thresholds
        out = catchments(
            engine,
            _providers([(x, y)]),
            thresholds_min=values,
            buffer_m=5.0,
            method=method,  # type: ignore[arg-type]
        )
    geoms = list(out.geometry)
    for smaller, larger in itertools.pairwise(geoms):
        assert larger.buffer(1e-6).contains(smaller)
        assert larger.area >= smaller.area - 1e-6
    assert all(g.is_valid and not g.is_empty for g in geoms)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    threshold=st.floats(min_value=0.3, max_value=6.0, allow_nan=False),
    x=st.floats(min_value=0, max_value=400),
    y=st.sampled_from([0.0, 100.0, 300.0, 400.0]),
    direction=st.sampled_from(["from", "to"]),
)
def test_polygon_agrees_with_node_times(
    threshold: float, x: float, y: float, direction: str
) -> None:
    """Nodes reached in time are inside; nodes later than T + 5.5 m of walking are outside."""
    engine = _grid_engine()
    providers = _providers([(x, y)])
    poly = catchments(
        engine,
        providers,
        thresholds_min=threshold,
        buffer_m=5.0,
        direction=direction,  # type: ignore[arg-type]
    ).geometry.iloc[0]
    times = engine.node_times(snap_points(engine, providers, id_column="site_id"))[0]
    speed = 4.8 / 3.6
    for node, t in zip(engine.node_ids, times, strict=True):
        point = shapely.Point(engine.graph.nodes[node]["x"], engine.graph.nodes[node]["y"])
        if t <= threshold * 60 - 1e-6:
            assert poly.contains(point)
        elif t > threshold * 60 + 5.5 / speed:
            assert not poly.contains(point)


def test_convex_hull_covers_edge_based_area() -> None:
    engine = _grid_engine()
    providers = _providers([(0, 0), (230, 180)])
    kwargs = {"thresholds_min": (1.5, 3, 5), "buffer_m": 5.0}
    edges = catchments(engine, providers, **kwargs)
    hull = catchments(engine, providers, method="convex_hull", **kwargs)
    assert (hull["method"] == "convex_hull").all()
    for e, h in zip(edges.geometry, hull.geometry, strict=True):
        assert h.buffer(1e-6).contains(e)
    assert (hull["area_km2"] >= edges["area_km2"]).all()
    assert (hull["area_km2"] > edges["area_km2"] * 1.5).any()  # hulls overreach


# ---- service areas ---------------------------------------------------------------------------


def test_service_areas_split_grid_at_midline() -> None:
    engine = _grid_engine()
    providers = _providers([(0, 200), (300, 200)], ids=["W", "E"])
    out = service_areas(engine, providers, buffer_m=5.0)
    assert list(out["site_id"]) == ["E", "W"]
    assert list(out.columns) == [
        "provider_id",
        "site_id",
        "mode",
        "method",
        "area_km2",
        "geometry",
    ]
    east, west = out.geometry
    # midline x = 150: each edge goes to the nearer provider, split where times are equal
    assert west.bounds[2] == pytest.approx(X0 + 155)
    assert east.bounds[0] == pytest.approx(X0 + 145)
    for y in (0, 100, 200, 300, 400):
        assert west.contains(_pt(140, y)) and not east.contains(_pt(140, y))
        assert east.contains(_pt(160, y)) and not west.contains(_pt(160, y))
    for x, y in [(0, 50), (100, 350), (50, 400)]:
        assert west.contains(_pt(x, y)) and not east.contains(_pt(x, y))
    for x, y in [(200, 50), (400, 350), (350, 0)]:
        assert east.contains(_pt(x, y)) and not west.contains(_pt(x, y))
    overlap = west.intersection(east)
    assert overlap.bounds[0] >= X0 + 145 - 1e-6 and overlap.bounds[2] <= X0 + 155 + 1e-6
    whole = catchments(engine, providers.iloc[:1], thresholds_min=30, buffer_m=5.0).geometry.iloc[0]
    assert west.union(east).symmetric_difference(whole).area < 1.0


def test_service_areas_children_by_travel_time_and_assignment() -> None:
    engine = _grid_engine()
    providers = _providers([(0, 200), (300, 200)], ids=["W", "E"])
    demand = gpd.GeoDataFrame(
        {
            "area_id": ["L1", "L2", "L3"],
            "children_ks3": [10.0, 20.0, 40.0],
            "children_ks4": [1.0, 2.0, 4.0],
        },
        geometry=[_pt(100, 100), _pt(400, 400), _pt(180, 300)],
        crs=BNG,
    )
    out, assignment = service_areas(
        engine, providers, buffer_m=5.0, demand=demand, return_assignment=True
    )
    assert assignment is not None
    assert list(assignment["area_id"]) == ["L1", "L2", "L3"]
    assert list(assignment["site_id"]) == ["W", "E", "E"]
    assert list(assignment["provider_id"]) == ["PW", "PE", "PE"]
    assert assignment["travel_time_s"].iloc[0] == pytest.approx(200 / (4.8 / 3.6))
    by_site = out.set_index("site_id")
    assert by_site.loc["W", "children_ks3"] == 10 and by_site.loc["E", "children_ks3"] == 60
    assert by_site.loc["E", "children_ks4"] == 6
    assert "travel time" in by_site.loc["W", "children_method"]
    table = nearest_provider_table(engine, providers, demand)
    pd.testing.assert_frame_equal(table, assignment)


# ---- straight-line fallback ------------------------------------------------------------------


def test_straight_line_radius_and_area() -> None:
    providers = _providers([(0, 0), (5000, 0)])
    out = straight_line_catchments(providers, thresholds_min=(15, 30), mode="walk")
    radius_15 = 900 * (4.8 / 3.6) / 1.3
    assert radius_15 == pytest.approx(923.08, abs=0.01)
    first = out.iloc[0]
    assert first["method"] == "straight-line estimate"
    assert first["area_km2"] == pytest.approx(math.pi * radius_15**2 / 1e6, rel=0.01)
    minx, _, maxx, _ = first.geometry.bounds
    assert (maxx - minx) / 2 == pytest.approx(radius_15, rel=1e-6)
    assert out.iloc[1]["area_km2"] == pytest.approx(4 * first["area_km2"], rel=1e-6)
    assert out.iloc[1].geometry.buffer(1e-6).contains(first.geometry)
    assert out.crs == BNG
    assert list(out.columns) == [
        "provider_id",
        "site_id",
        "mode",
        "threshold_min",
        "method",
        "area_km2",
        "geometry",
    ]


def test_straight_line_clip_speed_and_lonlat_input() -> None:
    providers = _providers([(0, 0)])
    half = shapely.box(X0, Y0 - 5000, X0 + 5000, Y0 + 5000)
    full = straight_line_catchments(providers, thresholds_min=15, mode="cycle", circuity_factor=1.0)
    clipped = straight_line_catchments(
        providers, thresholds_min=15, mode="cycle", circuity_factor=1.0, clip=half
    )
    assert clipped["area_km2"].iloc[0] == pytest.approx(full["area_km2"].iloc[0] / 2, rel=1e-3)
    fast = straight_line_catchments(providers, thresholds_min=15, mode="cycle", speed_kph=30.0)
    assert fast["area_km2"].iloc[0] > full["area_km2"].iloc[0]
    lonlat = straight_line_catchments(providers.to_crs("EPSG:4326"), thresholds_min=15, mode="walk")
    assert lonlat.crs == BNG  # degrees in Great Britain: drawn in British National Grid
    with pytest.raises(ApgeoValueError, match="circuity_factor"):
        straight_line_catchments(providers, thresholds_min=15, mode="walk", circuity_factor=0.8)


# ---- children inside -------------------------------------------------------------------------


def _square_demand() -> gpd.GeoDataFrame:
    cells = [(0, 0), (200, 200), (400, 0)]
    return gpd.GeoDataFrame(
        {
            "area_id": ["C1", "C2", "C3"],
            "children_ks3": [10.0, 20.0, 40.0],
            "pwc_easting": [X0 + 20, X0 + 250, X0 + 480],
            "pwc_northing": [Y0 + 20, Y0 + 250, Y0 + 50],
        },
        geometry=[shapely.box(X0 + x, Y0 + y, X0 + x + 100, Y0 + y + 100) for x, y in cells],
        crs=BNG,
    )


def test_children_inside_pwc_and_areal() -> None:
    engine = _grid_engine()
    demand = _square_demand()
    providers = _providers([(0, 0)])
    # everything reached, band 50 m: the polygon is the square [-50, 450] (rounded corners)
    pwc = catchments(
        engine, providers, thresholds_min=20, buffer_m=50.0, demand=demand, key_stages="KS3"
    )
    assert pwc["children_ks3"].iloc[0] == pytest.approx(30.0)  # C3's centroid lies outside
    assert pwc["children_method"].iloc[0] == CHILDREN_METHOD_TEXT["pwc"]
    assert "population-weighted centroids within the polygon" in pwc["children_method"].iloc[0]
    areal = catchments(
        engine, providers, thresholds_min=20, buffer_m=50.0, demand=demand, children_method="areal"
    )
    assert areal["children_ks3"].iloc[0] == pytest.approx(10 + 20 + 40 / 2, rel=1e-6)
    assert areal["children_method"].iloc[0] == "areal share of LSOA polygons"
    # demand in another CRS and with point geometry only (no pwc columns)
    points = demand.drop(columns=["pwc_easting", "pwc_northing"]).copy()
    points = points.set_geometry(gpd.points_from_xy(demand["pwc_easting"], demand["pwc_northing"]))
    points = points.set_crs(BNG, allow_override=True).to_crs("EPSG:4326")
    again = catchments(engine, providers, thresholds_min=20, buffer_m=50.0, demand=points)
    assert again["children_ks3"].iloc[0] == pytest.approx(30.0)
    straight = straight_line_catchments(providers, thresholds_min=1, mode="walk", demand=demand)
    assert straight["children_ks3"].iloc[0] == pytest.approx(10.0)  # radius 61.5 m


def test_children_errors() -> None:
    engine = _grid_engine()
    demand = _square_demand()
    providers = _providers([(0, 0)])
    with pytest.raises(MissingColumnError, match="pwc_easting"):
        catchments(
            engine,
            providers,
            thresholds_min=5,
            demand=demand.drop(columns=["pwc_easting", "pwc_northing"]),
        )
    with pytest.raises(MissingColumnError, match="children_ks4"):
        catchments(engine, providers, thresholds_min=5, demand=demand, key_stages="KS3,KS4")
    with pytest.raises(ApgeoValueError, match="needs LSOA polygons"):
        catchments(
            engine,
            providers,
            thresholds_min=5,
            demand=demand.set_geometry(demand.geometry.centroid),
            children_method="areal",
        )
    with pytest.raises(CRSError, match="demand has no CRS"):
        catchments(
            engine, providers, thresholds_min=5, demand=demand.set_crs(None, allow_override=True)
        )


# ---- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ((0, 15), "positive"),
        ((-5,), "positive"),
        ((30, 15), "sorted in increasing order"),
        ((15, 15), "sorted in increasing order"),
        ((), "empty"),
        ((15, float("nan")), "positive, finite"),
        (("a",), "number of minutes"),
    ],
)
def test_bad_thresholds(thresholds: tuple[float, ...], message: str) -> None:
    with pytest.raises(ApgeoValueError, match=message):
        catchments(_grid_engine(), _providers([(0, 0)]), thresholds_min=thresholds)
    with pytest.raises(ApgeoValueError, match=message):
        straight_line_catchments(_providers([(0, 0)]), thresholds_min=thresholds, mode="walk")


def test_bad_options_and_providers() -> None:
    engine = _grid_engine()
    good = _providers([(0, 0), (100, 100)])
    with pytest.raises(ApgeoValueError, match="unknown method='isochrone'"):
        catchments(engine, good, method="isochrone")  # type: ignore[arg-type]
    with pytest.raises(ApgeoValueError, match="unknown children_method"):
        catchments(engine, good, children_method="dasymetric")  # type: ignore[arg-type]
    with pytest.raises(ApgeoValueError, match="buffer_m=-5"):
        catchments(engine, good, buffer_m=-5)
    with pytest.raises(ApgeoValueError, match="buffer_m=-5"):
        service_areas(engine, good, buffer_m=-5)
    with pytest.raises(ApgeoValueError, match="engine's network is for 'walk'"):
        catchments(engine, good, mode="drive")
    with pytest.raises(CRSError, match="providers has no CRS"):
        catchments(engine, _providers([(0, 0)], crs=None))
    empty = good.copy()
    empty.loc[1, "geometry"] = shapely.Point()
    with pytest.raises(ApgeoValueError, match=r"no geometry \(site_id: S1\)"):
        catchments(engine, empty)
    with pytest.raises(ApgeoValueError, match=r"no geometry \(site_id: S1\)"):
        service_areas(engine, empty)
    with pytest.raises(MissingColumnError, match="'site_id'"):
        catchments(engine, good.drop(columns="site_id"))
    with pytest.raises(SnapError, match="S1"):
        catchments(engine, _providers([(0, 0), (20_000, 0)]))
    with pytest.raises(ApgeoValueError, match="TravelTimeEngine"):
        catchments(grid_network(3, 3), good)  # type: ignore[arg-type]


# ---- real OSM --------------------------------------------------------------------------------


@cache
def _pbf_engine() -> TravelTimeEngine:
    return TravelTimeEngine.from_graph(pbf_network("walk"), warn_dropped_fraction=None)


def test_real_osm_walk_catchments() -> None:
    engine = _pbf_engine()
    assert engine.crs != BNG  # Finland: a UTM zone
    G = engine.graph
    nodes = [engine.node_ids[k] for k in (100, 900)]
    providers = gpd.GeoDataFrame(
        {"site_id": ["A", "B"]},
        geometry=[shapely.Point(G.nodes[n]["x"] + 15, G.nodes[n]["y"] + 10) for n in nodes],
        crs=engine.crs,
    ).to_crs("EPSG:4326")  # any CRS in, the engine's CRS out
    out = catchments(engine, providers, thresholds_min=(5, 10))
    assert out.crs == engine.crs
    assert len(out) == 4
    assert out.geometry.is_valid.all() and not out.geometry.is_empty.any()
    assert set(out.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    for site in ("A", "B"):
        five, ten = out[out["site_id"] == site].geometry
        assert ten.buffer(1e-6).contains(five)
        assert ten.area > five.area > 0
    hull = catchments(engine, providers, thresholds_min=(5, 10), method="convex_hull")
    assert (hull["area_km2"].to_numpy() >= out["area_km2"].to_numpy()).all()
    areas = service_areas(engine, providers)
    assert areas.geometry.is_valid.all() and (areas["area_km2"] > 0).all()
