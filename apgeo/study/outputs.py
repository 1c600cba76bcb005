"""The study's files: tables (CSV and one GeoPackage), maps, figures and the report.

The last stages of :func:`apgeo.study.pipeline.run_study`; each takes the
:class:`~apgeo.study.result.StudyResult` the earlier stages filled. Every GeoPackage is
written with a fixed timestamp (:func:`apgeo.outputs.files.write_gpkg`), so a rerun of
the same study gives byte-identical files.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

import apgeo
from apgeo import schema as S
from apgeo._cache import array_digest
from apgeo.inputs.landscape import data_manifest
from apgeo.outputs.files import write_csv, write_gpkg
from apgeo.study.result import StudyResult

# ------------------------------------------------------------------------ outputs


def write_outputs(result: StudyResult) -> None:
    """Write every table as CSV, the travel times, and a provenance JSON; the GeoPackage
    with its QGIS styles; with ``result.formats`` holding ``"parquet"``, GeoParquet too.

    Parameters
    ----------
    result
        The study's result; the written files are added to ``result.files``.
    """
    out = result.config.output_dir
    out.mkdir(parents=True, exist_ok=True)
    gpkg = out / f"{result.config.name}.gpkg"
    gpkg.unlink(missing_ok=True)
    # one number format for every table, area names beside area codes (write_csv)
    names = _area_names(result)
    for name, table in sorted(result.tables.items()):
        path = out / f"{name}.csv"
        if isinstance(table, gpd.GeoDataFrame):
            write_gpkg(table, gpkg, layer=name)
            table = pd.DataFrame(table.drop(columns=table.geometry.name))
        write_csv(table, path, names=names)
        result.files.append(path)
    layers = gis_layers(result)
    for name, layer in layers.items():
        write_gpkg(layer, gpkg, layer=name)
    if gpkg.is_file():
        from apgeo.outputs.qgis_styles import write_layer_styles

        write_layer_styles(gpkg, qgis_styles(result, [*layers, *result.tables]))
        result.files.append(gpkg)
    for mode, labelled in travel_time_tables(result).items():
        path = out / f"travel_times_{mode}.csv"
        write_csv(labelled, path, names=names)
        result.files.append(path)
    providers = pd.DataFrame(result.providers.drop(columns="geometry"))
    providers[S.EASTING] = result.providers.geometry.x
    providers[S.NORTHING] = result.providers.geometry.y
    for name, frame in (("providers", providers), ("providers_not_located", result.not_located)):
        path = out / f"{name}.csv"
        write_csv(frame, path, names=names)
        result.files.append(path)
    provenance = study_provenance(result)
    if "parquet" in result.formats:
        from apgeo.outputs.parquet import write_parquet

        folder = out / "parquet"
        folder.mkdir(exist_ok=True)
        method = json.dumps(result.network_method, sort_keys=True)
        meta = {"apgeo_version": apgeo.__version__, "method": method, "study": result.config.name}
        for name, frame in sorted(postgis_tables(result).items()):
            result.files.append(write_parquet(frame, folder / f"{name}.parquet", metadata=meta))
    path = out / "provenance.json"
    path.write_text(json.dumps(provenance, indent=2, default=str) + "\n", encoding="utf-8")
    result.files.append(path)


def travel_time_tables(result: StudyResult) -> dict[str, pd.DataFrame]:
    """Each mode's travel-time table labelled with its method (the CSV's columns).

    Parameters
    ----------
    result
        The study's result.

    Returns
    -------
    dict of str to pandas.DataFrame
        By mode: ``origin_id``, ``destination_id``, ``travel_time_s`` and ``method``.
    """
    return {
        mode: table[[S.ORIGIN_ID, S.DESTINATION_ID, S.TRAVEL_TIME_S]].assign(method=result.network_method[mode])
        for mode, table in result.travel_times.items()
    }


def gis_layers(result: StudyResult) -> dict[str, gpd.GeoDataFrame]:
    """The layers a GIS team opens besides the tables': ``providers`` (points),
    ``nearest_ap_time_<mode>`` (demand areas with the travel time to the nearest AP site,
    the web maps' choropleth) and ``access_coldspot_areas`` (cold-spot areas and reasons).

    Parameters
    ----------
    result
        The study's result.

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        The layers by name (a layer without data is left out).
    """
    from apgeo.outputs.qgis_styles import TIME_MIN_COLUMN

    layers: dict[str, gpd.GeoDataFrame] = {"providers": result.providers}
    if "nearest_ap" in result.tables:
        for mode in result.travel_times:
            areas = _areas_for_map(result, mode)
            areas[TIME_MIN_COLUMN] = areas["nearest_time_s"] / 60.0
            layers[f"nearest_ap_time_{mode}"] = areas
    cold = result.tables.get("access_coldspots")
    if cold is not None and len(cold):
        c = cold[cold["access_coldspot"].astype(bool)]
        reasons = c.groupby([S.AREA_ID, "mode"], sort=True)["reason"].agg("; ".join).reset_index()
        polygons = result.demand[[S.AREA_ID, S.AREA_NAME, "geometry"]] if S.AREA_NAME in result.demand.columns else result.demand[[S.AREA_ID, "geometry"]]
        layers["access_coldspot_areas"] = gpd.GeoDataFrame(polygons.merge(reasons, on=S.AREA_ID, how="inner"), geometry="geometry", crs=result.demand.crs)
    return layers


def qgis_styles(result: StudyResult, layers: list[str]) -> dict[str, tuple[str, str]]:
    """The QGIS default style (QML, description) of each styled layer in ``layers``.

    Parameters
    ----------
    result
        The study's result (thresholds and methods of the descriptions).
    layers
        Layer names; those without a style are left out.

    Returns
    -------
    dict of str to tuple of (str, str)
        ``(QML, description)`` by layer name.
    """
    from apgeo.outputs import qgis_styles as q

    styles: dict[str, tuple[str, str]] = {}
    for name in layers:
        if name == "providers":
            styles[name] = (q.rule_qml(q.provider_rules()), "providers by kind, as in the web maps")
        elif name.startswith("nearest_ap_time_"):
            mode = name.removeprefix("nearest_ap_time_")
            styles[name] = (q.rule_qml(q.travel_time_rules()),
                            f"travel time to the nearest AP site by {mode} (minutes): {result.network_method.get(mode, '')}")
        elif name.startswith("catchments_"):
            styles[name] = (q.rule_qml(q.catchment_rules(result.config.thresholds_min)), f"{name} by threshold")
        elif name == "access_coldspot_areas":
            styles[name] = (q.rule_qml(q.coldspot_rules()), "access cold spots (far from suitable provision)")
    return styles


def postgis_tables(result: StudyResult) -> dict[str, pd.DataFrame]:
    """Every table and layer of the study under one name each (PostGIS, GeoParquet):
    the tables (layers with their geometry), the labelled travel times, the providers
    (a point layer) and those not located, and :func:`gis_layers`.

    Parameters
    ----------
    result
        The study's result.

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables by name: ``result.tables``, ``travel_times_<mode>``,
        ``providers_not_located`` and the GIS layers.
    """
    tables: dict[str, pd.DataFrame] = dict(sorted(result.tables.items()))
    for mode, table in travel_time_tables(result).items():
        tables[f"travel_times_{mode}"] = table
    tables["providers_not_located"] = result.not_located
    tables.update(gis_layers(result))
    return tables


def study_provenance(result: StudyResult) -> dict[str, Any]:
    """What made the study's outputs (provenance.json, PostGIS table comments).

    Parameters
    ----------
    result
        The study's result.

    Returns
    -------
    dict
        ``study``, ``apgeo_version``, ``python``, ``config``, ``network_method``,
        ``networks`` (each mode's network record), ``data_files`` (file, sha256, data date,
        licence) and ``headline``.
    """
    manifest = data_manifest(result.config.data_dir)
    provenance = {
        "study": result.config.name,
        "apgeo_version": apgeo.__version__,
        "python": platform.python_version(),
        "config": str(result.config.config_path),
        "network_method": result.network_method,
        "networks": {m: r.to_dict() for m, r in result.network_records.items()},
        "data_files": manifest[["file", "sha256", "data_date", "licence"]].to_dict(orient="records"),
        "headline": result.headline,
    }
    return provenance


def write_postgis(result: StudyResult) -> list[str]:
    """Write :func:`postgis_tables` to the ``[postgis] output_schema`` in one transaction,
    replacing the previous run's tables; each table's comment holds the method labels and
    the provenance.

    Parameters
    ----------
    result
        The study's result; its config needs a ``[postgis]`` section.

    Returns
    -------
    list of str
        The names of the tables written.
    """
    from apgeo._errors import ConfigError
    from apgeo._postgis import COMMENT_PREFIX, write_tables

    cfg = result.config
    if cfg.postgis is None:
        raise ConfigError(
            f"{cfg.config_path}: --to-postgis needs a [postgis] section with dsn (and output_schema)"
        )
    provenance = study_provenance(result)
    provenance.pop("headline", None)
    tables = postgis_tables(result)
    method = "; ".join(f"{m}: {label}" for m, label in result.network_method.items())
    comments = {
        name: f"{COMMENT_PREFIX} {cfg.name!r} (apgeo {apgeo.__version__}): {name}. Method: {method}. "
              f"Provenance: {json.dumps(provenance, default=str, sort_keys=True)}"
        for name in tables
    }
    return write_tables(cfg.postgis, tables, schema=cfg.postgis.output_schema, comments=comments)


def _area_names(result: StudyResult) -> dict[str, dict[str, str]]:
    """LSOA code -> name from the study's demand areas, for the CSVs' name columns."""
    demand = result.demand
    if S.AREA_NAME not in demand.columns:
        return {}
    lookup = dict(zip(demand[S.AREA_ID].astype(str), demand[S.AREA_NAME].fillna("").astype(str), strict=True))
    return {S.AREA_ID: lookup, S.ORIGIN_ID: lookup}


# ---------------------------------------------------------------------------- maps


def _areas_for_map(result: StudyResult, mode: str) -> gpd.GeoDataFrame:
    nearest = result.tables["nearest_ap"]
    nearest = nearest[nearest["mode"] == mode][[S.AREA_ID, "nearest_time_s", "nearest_site_id"]]
    cols = [S.AREA_ID, S.AREA_NAME, S.WARD_NAME, "children_school_age", S.IMD_DECILE, S.IDACI_DECILE, "geometry"]
    return result.demand[cols].merge(nearest, on=S.AREA_ID, how="left")


def _cap_min(table: pd.DataFrame) -> float | None:
    """The journey limit of a travel-time table in minutes, ``None`` when it has none."""
    cap = table.attrs.get("max_travel_time_s")
    return float(cap) / 60.0 if cap is not None and np.isfinite(cap) else None


def map_method_suffix(mode: str, method: str) -> str:
    """How a map's travel times were made, for its title, e.g. ``" (timetable + straight-line
    walking)"`` for public transport; ``""`` for times on the street network.

    Parameters
    ----------
    mode
        The travel mode (``"transit"`` is public transport).
    method
        The study's method note for the mode (``StudyResult.network_method``).

    Returns
    -------
    str
        Text to append to the title.
    """
    straight = "STRAIGHT-LINE" in method
    if mode == "transit" or method.startswith("public transport"):
        return " (timetable + straight-line walking)" if straight else " (timetable + street walking)"
    return " (straight-line estimate)" if straight else ""


def draw_maps(result: StudyResult) -> None:
    """One interactive map per mode in ``maps_dir``: providers, travel time to the nearest
    AP site, access cold spots with reasons, Gi* clusters, wards; every title says how
    the travel times were made.

    Parameters
    ----------
    result
        The study's result; the written files are added to ``result.files``.
    """
    from apgeo.outputs.maps import save_map, study_map
    from apgeo.outputs.report import map_path

    cfg = result.config
    polygons = result.demand[[S.AREA_ID, S.AREA_NAME, S.WARD_NAME, "geometry"]]
    cold = result.tables.get("access_coldspots")
    gi = result.tables.get("gi_star_clusters")
    transit = result.engines.get("transit")
    for mode in result.travel_times:
        extra = []
        if transit is not None and hasattr(transit, "feed"):
            from apgeo.outputs.transit_layer import transit_layer

            # a fresh layer for each map; shown at first on the public-transport map only
            extra.append(transit_layer(transit.feed, show=mode == "transit"))
        coldspots = None
        if cold is not None:
            c = cold[(cold["mode"] == mode) & cold["access_coldspot"]]
            reasons = c.groupby(S.AREA_ID)["reason"].agg("; ".join).reset_index()
            coldspots = polygons.merge(reasons, on=S.AREA_ID, how="inner")
        clusters = None
        if gi is not None:
            ks = "KS3" if "KS3" in cfg.key_stages else cfg.key_stages[0]
            g = gi[(gi["mode"] == mode) & (gi["key_stage"] == ks)][[S.AREA_ID, "gi_label", "gi_z", "gi_p_sim"]]
            clusters = polygons.merge(g, on=S.AREA_ID, how="inner")
        catch = result.tables.get(f"catchments_{mode}")
        method = result.network_method[mode]
        estimate = map_method_suffix(mode, method)
        m = study_map(
            providers=result.providers,
            areas=_areas_for_map(result, mode),
            area_value_column="nearest_time_s",
            area_value_label=f"Travel time to nearest AP site by {mode} (minutes)" + estimate,
            wards=result.wards,
            boundary=result.boundary,
            catchments=catch if isinstance(catch, gpd.GeoDataFrame) else None,
            coldspots=coldspots,
            clusters=clusters,
            recommendations=result.tables.get("recommended_sites_map") if mode == cfg.recommend_mode else None,
            title=f"{cfg.title} - {mode}" + estimate,
            method_note=result.network_method[mode],
            not_located=list(result.not_located[S.NAME]),
            extra_layers=extra,
            unreachable_within_min=_cap_min(result.travel_times[mode]),
        )
        path = save_map(m, map_path(cfg, mode))
        result.files.append(path)
    _draw_flow_map(result)


def _draw_flow_map(result: StudyResult) -> None:
    """The placement flow map, when the study has placements (SYNTHETIC ones labelled)."""
    from apgeo.outputs.flow_map import flow_map
    from apgeo.outputs.maps import save_map

    cfg = result.config
    synthetic = bool(result.headline.get("placements_synthetic", False))
    flows = result.tables.get(("placements_synthetic_" if synthetic else "placements_") + "flow_lines")
    if flows is None:
        return
    m = flow_map(
        flows,
        title=("SYNTHETIC DATA - " if synthetic else "") + f"{cfg.title}: placement flows",
        method_note=result.network_method.get(cfg.placements_mode),
        providers=result.providers,
        boundary=result.boundary,
        synthetic=synthetic,
    )
    result.files.append(save_map(m, cfg.maps_dir / f"{cfg.name}_{'synthetic_' if synthetic else ''}flows.html"))


# -------------------------------------------------------------------------- report


def _figure(path: Path, name: str, data: pd.DataFrame, options: dict[str, Any]) -> Path:
    """Draw figure ``name`` of :mod:`apgeo.outputs.figures` from ``data`` and ``options``
    into ``path`` (PNG), or copy the same PNG from the study cache, where it is kept under
    a digest of the data, the options and the matplotlib version (the drawing is
    deterministic: the same inputs give the same bytes)."""
    from importlib.metadata import version

    from apgeo._cache import cached_arrays
    from apgeo.study.incremental import study_cache_dir

    drawn: list[bool] = []

    def draw() -> dict[str, np.ndarray]:
        from apgeo.outputs import figures

        figures.save_figure(getattr(figures, name)(data, **options), path)
        drawn.append(True)
        return {"png": np.frombuffer(path.read_bytes(), dtype=np.uint8)}

    payload = {
        "kind": "figure",
        "figure": name,
        "format": path.suffix.lower(),
        "columns": [str(c) for c in data.columns],
        "dtypes": [str(t) for t in data.dtypes],
        "data": array_digest(pd.util.hash_pandas_object(data, index=True).to_numpy()),
        "options": options,
        "matplotlib": version("matplotlib"),
    }
    png = cached_arrays(study_cache_dir() / "figures", payload, draw, code=[__name__])
    if not drawn:
        assert png is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png["png"].tobytes())
    return path


def write_report_stage(result: StudyResult) -> None:
    """Figures (coverage curves, equity bars), a GeoPackage of area results, the report.

    Parameters
    ----------
    result
        The study's result; the written files are added to ``result.files``.
    """
    from apgeo.outputs.report import write_report

    cfg = result.config
    out = cfg.output_dir
    figures: dict[str, Path] = {}
    if "nearest_ap" in result.tables:
        near = result.tables["nearest_ap"].merge(
            result.demand[[S.AREA_ID, "children_school_age", S.IMD_DECILE]], on=S.AREA_ID
        )
        minutes = np.arange(0, 91, 1.0)
        rows = []
        for mode, g in near.groupby("mode", sort=False):
            total = g["children_school_age"].sum()
            t = g["nearest_time_s"].to_numpy() / 60
            for m in minutes:
                rows.append({"minutes": m, "share": float(g.loc[t <= m, "children_school_age"].sum() / total), "group": mode})
        figures["Coverage curve"] = _figure(
            out / "coverage_curve.png",
            "coverage_curve",
            pd.DataFrame(rows),
            {
                "title": "Children aged 5-15 within reach of an AP site",
                "group_label": "Mode",
                "note": next(iter(result.network_method.values())) if result.is_estimate else None,
            },
        )
        first = next(iter(result.travel_times))
        g = near[near["mode"] == first]
        bars = (
            g.assign(w=g["nearest_time_s"] / 60 * g["children_school_age"])
            .groupby(S.IMD_DECILE)[["w", "children_school_age"]]
            .sum()
        )
        eq = pd.DataFrame({"decile": bars.index.astype(int), "value": (bars["w"] / bars["children_school_age"]).to_numpy()})
        figures["Equity by IMD decile"] = _figure(
            out / "equity_imd.png",
            "equity_bars",
            eq,
            {
                "value_label": f"Mean minutes to nearest AP site by {first} (child-weighted)",
                "title": "Travel time by IMD 2019 decile (1 = most deprived)",
            },
        )
        sc = result.tables.get("scenarios")
        if sc is not None and len(sc):
            shares = sc[(sc["unit"] == "share") & (sc["key_stage"] == "all")]
            if len(shares):
                figures["Scenarios before and after"] = _figure(
                    out / "scenarios.png",
                    "before_after",
                    pd.DataFrame(
                        {
                            "metric": shares["scenario"] + "\n" + shares["metric"],
                            "before": shares["before"] * 100,
                            "after": shares["after"] * 100,
                        }
                    ),
                    {
                        "title": f"Scenarios: children of all key stages within reach ({cfg.recommend_mode})",
                        "value_label": "% of children",
                    },
                )
        if "matplotlib.pyplot" in sys.modules:  # figures were drawn, not read from the cache
            sys.modules["matplotlib.pyplot"].close("all")
        gpkg = out / f"{cfg.name}.gpkg"
        areas = result.demand[[S.AREA_ID, S.AREA_NAME, S.WARD_NAME, "children_school_age", S.IMD_DECILE, S.IDACI_DECILE, "geometry"]]
        wide = near.pivot(index=S.AREA_ID, columns="mode", values="nearest_time_s").add_prefix("nearest_ap_time_s_")
        write_gpkg(areas.merge(wide.reset_index(), on=S.AREA_ID), gpkg, layer="areas")
        write_gpkg(result.providers, gpkg, layer="providers")
        if gpkg not in result.files:
            result.files.append(gpkg)
    result.files += list(figures.values())
    result.files += write_report(result, figures=figures)
