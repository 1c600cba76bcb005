"""PostGIS: connect with the password from the environment, read a table or query as a
GeoDataFrame, write tables to a schema in one transaction.

The connection string comes from the study config and never holds the password
(:func:`check_dsn`); the password is read from an environment variable
(:attr:`PostgisSettings.password_env`, default ``PGPASSWORD``) when connecting and is never
logged or put into a message. Every failure a council's GIS team can meet (a wrong
password, a server that is not there, a missing table, a geometry column in another CRS,
a table without its id column) is a :class:`~apgeo._errors.DatabaseError`,
:class:`~apgeo._errors.CRSError` or :class:`~apgeo._errors.MissingColumnError` that names
the table and says what to do.

psycopg (version 3) is the only driver; it is imported on first use.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from apgeo._errors import ApgeoValueError, CRSError, DatabaseError, MissingColumnError
from apgeo._log import logger

#: Environment variable holding the password when the config names none (libpq's own).
DEFAULT_PASSWORD_ENV = "PGPASSWORD"
#: Comments of the tables apgeo writes start with this, so a rerun replaces only its own.
COMMENT_PREFIX = "apgeo study"
#: The primary key apgeo adds to every table it writes (QGIS needs one to open a layer).
FID = "fid"

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_QUERY = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)


@dataclass(frozen=True)
class PostgisSettings:
    """The ``[postgis]`` section of a study config (see :mod:`apgeo.study.config`)."""

    dsn: str
    password_env: str = DEFAULT_PASSWORD_ENV
    #: Sources: a table (``schema.table``) or a query (``SELECT ...``); "" = not from PostGIS.
    providers: str = ""
    demand: str = ""
    network: str = ""
    #: The CRS (EPSG code) every source's geometry column must be in.
    srid: int = 27700
    #: Where ``apgeo study --to-postgis`` writes the study's tables.
    output_schema: str = ""


def check_dsn(dsn: str, *, password_env: str = DEFAULT_PASSWORD_ENV) -> str:
    """``dsn`` when it is a PostgreSQL connection string without a password, else an error
    saying to put the password in the environment variable ``password_env``."""
    text = dsn.strip()
    if not text:
        raise ApgeoValueError("the PostGIS connection string is empty; e.g. postgresql://user@host:5432/gis")
    if text.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(text)
        if parts.password is not None or re.search(r"[?&]password=", text):
            raise ApgeoValueError(
                f"the PostGIS connection string holds a password; remove it and set the "
                f"environment variable {password_env} instead (passwords never go in the study file)"
            )
    elif "=" in text:  # key=value form
        if re.search(r"(^|\s)password\s*=", text):
            raise ApgeoValueError(
                f"the PostGIS connection string holds password=...; remove it and set the "
                f"environment variable {password_env} instead (passwords never go in the study file)"
            )
    else:
        raise ApgeoValueError(
            f"{text!r} is not a PostgreSQL connection string; e.g. postgresql://user@host:5432/gis "
            "or 'host=... dbname=... user=...'"
        )
    return text


def _where(dsn: str) -> str:
    """user@host:port/db of ``dsn`` for messages (it holds no password, see :func:`check_dsn`)."""
    try:
        import psycopg

        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except Exception:  # an unparsable string: the server's own message follows
        return "the configured server"
    host = info.get("host", "localhost")
    port = info.get("port", "5432")
    return f"{info.get('user', '?')}@{host}:{port}/{info.get('dbname', '?')}"


def connect(dsn: str, *, password_env: str = DEFAULT_PASSWORD_ENV) -> Any:
    """A psycopg connection (not yet in a transaction); the password from ``password_env``."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise DatabaseError("PostGIS needs the psycopg package: pip install 'psycopg[binary]'") from exc
    check_dsn(dsn, password_env=password_env)
    password = os.environ.get(password_env)
    kwargs: dict[str, Any] = {"connect_timeout": 10, "application_name": "apgeo"}
    if password:
        kwargs["password"] = password
    try:
        return psycopg.connect(dsn, **kwargs)
    except psycopg.OperationalError as exc:
        text = str(exc)
        if "password authentication failed" in text or "no password supplied" in text:
            got = f"the password in {password_env}" if password else f"no password ({password_env} is not set)"
            raise DatabaseError(
                f"PostGIS {_where(dsn)} refused the login with {got}: set the environment "
                f"variable {password_env} to the role's password"
            ) from None
        if "does not exist" in text:
            raise DatabaseError(f"PostGIS {_where(dsn)}: {text.strip().splitlines()[-1]}; check the connection string") from None
        raise DatabaseError(
            f"cannot connect to PostGIS {_where(dsn)}: {text.strip().splitlines()[-1]}; check the host, "
            "port and that the server accepts connections from here"
        ) from None


@contextmanager
def connection(settings: PostgisSettings) -> Iterator[Any]:
    """A connection of ``settings``, closed afterwards."""
    conn = connect(settings.dsn, password_env=settings.password_env)
    try:
        yield conn
    finally:
        conn.close()


def quote_ident(name: str) -> str:
    """``name`` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _relation(source: str) -> tuple[str | None, str]:
    """(schema, table) of ``schema.table`` or ``table``; an error for anything else."""
    parts = source.strip().split(".")
    if len(parts) > 2 or not all(_IDENT.match(p) for p in parts):
        raise ApgeoValueError(
            f"PostGIS source {source!r} is neither a table name (schema.table) nor a query "
            "(SELECT ...); quote nothing, e.g. education.ap_sites"
        )
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def source_sql(source: str) -> tuple[str, str]:
    """The SQL of a source (a query, or ``SELECT * FROM`` the table) and its name for messages."""
    if _QUERY.match(source):
        return source.strip().rstrip(";"), "query"
    schema, table = _relation(source)
    rel = f"{quote_ident(schema)}.{quote_ident(table)}" if schema else quote_ident(table)
    return f"SELECT * FROM {rel}", f"table {source.strip()}"


def _geometry_oids(conn: Any) -> set[int]:
    rows = conn.execute("SELECT oid FROM pg_type WHERE typname IN ('geometry', 'geography')").fetchall()
    return {int(r[0]) for r in rows}


def _missing_table(conn: Any, source: str, exc: Exception) -> DatabaseError:
    tables = conn.execute(
        "SELECT f_table_schema || '.' || f_table_name FROM geometry_columns ORDER BY 1 LIMIT 20"
    ).fetchall()
    listed = ", ".join(r[0] for r in tables) or "none"
    first = str(exc).strip().splitlines()[0]
    return DatabaseError(
        f"PostGIS {source}: {first}; check the name and schema in [postgis] (tables with a "
        f"geometry column there: {listed})"
    )


def read_layer(
    conn: Any,
    source: str,
    *,
    id_column: str | None,
    srid: int = 27700,
    geometry_column: str | None = None,
) -> gpd.GeoDataFrame:
    """A table or query as a GeoDataFrame in EPSG ``srid``, ordered by ``id_column``.

    Errors name the source and the fix: a missing table (the tables with a geometry column
    are listed), no ``id_column`` (the columns found are listed), no geometry column or
    several, a geometry column whose SRID is not ``srid`` (transform it in a query, or set
    ``srid``), coordinates outside that CRS's area of use.
    """
    import psycopg

    sql, name = source_sql(source)
    try:
        with conn.transaction():
            cur = conn.execute(f"SELECT * FROM ({sql}) AS apgeo_source LIMIT 0")  # type: ignore[arg-type]
            columns = [(d.name, d.type_code) for d in cur.description or []]
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName) as exc:
        raise _missing_table(conn, name, exc) from None
    except psycopg.Error as exc:
        raise DatabaseError(f"PostGIS {name}: {str(exc).strip().splitlines()[0]}") from None
    geo_oids = _geometry_oids(conn)
    geometry = [c for c, oid in columns if oid in geo_oids]
    names = [c for c, _ in columns]
    if geometry_column is not None:
        if geometry_column not in geometry:
            raise MissingColumnError(
                f"PostGIS {name} has no geometry column {geometry_column!r}; geometry columns: "
                f"{', '.join(geometry) or 'none'}"
            )
        geometry = [geometry_column]
    if len(geometry) != 1:
        raise MissingColumnError(
            f"PostGIS {name} has {len(geometry)} geometry columns ({', '.join(geometry) or 'none'}); "
            "give exactly one (select it in a query)"
        )
    geom = geometry[0]
    if id_column is not None and id_column not in names:
        raise MissingColumnError(
            f"PostGIS {name} has no id column {id_column!r} (columns: {', '.join(names)}); "
            f"add one, or rename it in a query: SELECT your_id AS {id_column}, ..."
        )
    others = [c for c in names if c != geom]
    g = quote_ident(geom)
    select = ", ".join([*(quote_ident(c) for c in others), f"ST_AsBinary({g}) AS apgeo_wkb", f"ST_SRID({g}) AS apgeo_srid"])
    order = f" ORDER BY {quote_ident(id_column)}" if id_column is not None else ""
    with conn.transaction():
        cur = conn.execute(f"SELECT {select} FROM ({sql}) AS apgeo_source{order}")  # type: ignore[arg-type]
        rows = cur.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=[*others, "apgeo_wkb", "apgeo_srid"])
    srids = sorted({int(s) for s in frame["apgeo_srid"].dropna()})
    if srids and srids != [srid]:
        shown = ", ".join("0 (none)" if s == 0 else f"EPSG:{s}" for s in srids)
        raise CRSError(
            f"PostGIS {name}: geometry column {geom!r} is in {shown}, not EPSG:{srid}; transform it in "
            f"a query (SELECT ..., ST_Transform({geom}, {srid}) AS {geom} FROM ...) or set "
            f"[postgis] srid = {srids[0]} if that is the CRS of every source"
        )
    wkb = frame.pop("apgeo_wkb")
    frame = frame.drop(columns="apgeo_srid")
    geoms = shapely.from_wkb([None if v is None else bytes(v) for v in wkb])
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=f"EPSG:{srid}"), crs=f"EPSG:{srid}")
    _check_area_of_use(out, name=name, geom=geom, srid=srid)
    logger.info("PostGIS %s: %d rows (geometry %s, EPSG:%d)", name, len(out), geom, srid)
    return out


def _check_area_of_use(gdf: gpd.GeoDataFrame, *, name: str, geom: str, srid: int) -> None:
    """A CRSError when the coordinates lie outside ``srid``'s area of use (mislabelled SRID)."""
    from pyproj import CRS, Transformer

    crs = CRS.from_epsg(srid)
    area = crs.area_of_use
    ok = ~gdf.geometry.is_empty & gdf.geometry.notna()
    if area is None or not ok.any():
        return
    minx, miny, maxx, maxy = gdf.geometry[ok].total_bounds
    if crs.is_projected and -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90:
        raise CRSError(
            f"PostGIS {name}: the coordinates of {geom!r} ({minx:.6g}, {miny:.6g} to {maxx:.6g}, {maxy:.6g}) "
            f"look like longitude/latitude degrees, but the column's SRID says EPSG:{srid} (metres); "
            f"label them as degrees and transform: ST_Transform(ST_SetSRID({geom}, 4326), {srid})"
        )
    to_crs = Transformer.from_crs("EPSG:4326", f"EPSG:{srid}", always_xy=True)
    xs, ys = to_crs.transform([area.west, area.east, area.west, area.east], [area.south, area.south, area.north, area.north])
    finite = [v for v in (*xs, *ys) if math.isfinite(v)]
    if len(finite) < 8:
        return
    lo_x, hi_x, lo_y, hi_y = min(xs), max(xs), min(ys), max(ys)
    pad_x, pad_y = 0.5 * (hi_x - lo_x), 0.5 * (hi_y - lo_y)
    if minx < lo_x - pad_x or maxx > hi_x + pad_x or miny < lo_y - pad_y or maxy > hi_y + pad_y:
        raise CRSError(
            f"PostGIS {name}: the coordinates of {geom!r} ({minx:.6g}, {miny:.6g} to {maxx:.6g}, {maxy:.6g}) "
            f"lie far outside EPSG:{srid} ({area.name}); the column's SRID is wrong: set it with "
            f"ST_SetSRID to the CRS the coordinates are in"
        )


# --------------------------------------------------------------------------- writing

def _pg_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "bigint"
    if pd.api.types.is_float_dtype(series):
        return "double precision"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "timestamp"
    return "text"


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (list, tuple, dict, set)):
        return str(value)
    return value


def _copy_rows(frame: pd.DataFrame, geometry: str | None, srid: int) -> Iterator[list[Any]]:
    cols = [c for c in frame.columns if c != geometry]
    ewkb: list[str | None] = []
    if geometry is not None:
        geoms = shapely.set_srid(np.asarray(frame[geometry].to_numpy(), dtype=object), srid)
        ewkb = list(shapely.to_wkb(geoms, hex=True, include_srid=True))
    values = frame[cols].to_numpy(dtype=object)
    for i in range(len(frame)):
        row = [_cell(v) for v in values[i]]
        if geometry is not None:
            row.append(ewkb[i])
        yield row


def write_tables(
    settings: PostgisSettings,
    tables: Mapping[str, pd.DataFrame],
    *,
    schema: str,
    comments: Mapping[str, str],
    srid: int = 27700,
) -> list[str]:
    """Write ``tables`` into ``schema`` in one transaction, replacing the tables an earlier
    apgeo run wrote there (its comment starts with :data:`COMMENT_PREFIX`; other tables
    are left alone). Each gets an identity primary key ``fid``, a GiST index on its
    geometry column and ``comments[name]`` as its comment. A geometry column takes its
    frame's CRS (EPSG code), ``srid`` when the frame has none. Returns the tables written."""
    import psycopg

    if not _IDENT.match(schema):
        raise ApgeoValueError(f"[postgis] output_schema {schema!r} must be a plain name (letters, digits, _)")
    for name in tables:
        if not _IDENT.match(name):
            raise ApgeoValueError(f"table name {name!r} is not a plain SQL name")
    s = quote_ident(schema)
    with connection(settings) as conn:
        try:
            with conn.transaction():
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")  # type: ignore[arg-type]
                old = conn.execute(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relkind = 'r' AND obj_description(c.oid, 'pg_class') LIKE %s",
                    (schema, COMMENT_PREFIX + "%"),
                ).fetchall()
                for (name,) in old:
                    conn.execute(f"DROP TABLE {s}.{quote_ident(name)}")  # type: ignore[arg-type]
                for name, frame in tables.items():
                    _write_one(conn, s, name, frame, comments.get(name, COMMENT_PREFIX), srid)
        except psycopg.Error as exc:
            raise DatabaseError(
                f"PostGIS {_where(settings.dsn)}: writing schema {schema} failed and nothing was "
                f"changed: {str(exc).strip().splitlines()[0]}"
            ) from None
    logger.info("PostGIS: wrote %d table(s) to schema %s", len(tables), schema)
    return list(tables)


def _write_one(conn: Any, s: str, name: str, frame: pd.DataFrame, comment: str, srid: int) -> None:
    t = f"{s}.{quote_ident(name)}"
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    if FID in frame.columns:
        frame = frame.drop(columns=FID)
    defs = [f"{quote_ident(FID)} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"]
    cols = [c for c in frame.columns if c != geometry]
    defs += [f"{quote_ident(str(c))} {_pg_type(frame[c])}" for c in cols]
    if geometry is not None:
        crs = frame.crs  # type: ignore[attr-defined]
        if crs is not None:  # the frame's own CRS wins: its coordinates are never relabelled
            epsg = crs.to_epsg()
            if epsg is None:
                raise CRSError(f"table {name!r} is in a CRS without an EPSG code ({crs.name}); to_crs() one first")
            srid = epsg
        kinds = set(frame.geometry.geom_type.dropna())
        kind = kinds.pop() if len(kinds) == 1 else "Geometry"
        defs.append(f"{quote_ident(geometry)} geometry({kind}, {srid})")
    conn.execute(f"CREATE TABLE {t} ({', '.join(defs)})")  # type: ignore[arg-type]
    names = ", ".join(quote_ident(str(c)) for c in [*cols, *([geometry] if geometry else [])])
    with conn.cursor().copy(f"COPY {t} ({names}) FROM STDIN") as copy:  # type: ignore[arg-type]
        for row in _copy_rows(frame, geometry, srid):
            copy.write_row(row)
    if geometry is not None:
        conn.execute(f"CREATE INDEX ON {t} USING gist ({quote_ident(geometry)})")  # type: ignore[arg-type]
    conn.execute(f"COMMENT ON TABLE {t} IS {_literal(comment)}")  # type: ignore[arg-type]


def _literal(text: str) -> str:
    """``text`` as a SQL string literal (COMMENT takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def read_table(settings: PostgisSettings, schema: str, table: str) -> pd.DataFrame:
    """A table apgeo wrote (without its ``fid``): a GeoDataFrame when it has a geometry
    column, else a DataFrame; rows in ``fid`` order."""
    with connection(settings) as conn:
        oid = conn.execute("SELECT to_regclass(%s)", (f"{quote_ident(schema)}.{quote_ident(table)}",)).fetchone()
        if oid is None or oid[0] is None:
            raise DatabaseError(f"PostGIS: no table {schema}.{table}; run apgeo study --to-postgis first")
        has_geom = conn.execute(
            "SELECT count(*) FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s",
            (schema, table),
        ).fetchone()[0]
        if has_geom:
            srid = conn.execute(
                "SELECT srid FROM geometry_columns WHERE f_table_schema = %s AND f_table_name = %s",
                (schema, table),
            ).fetchone()[0]
            gdf = read_layer(conn, f"{schema}.{table}", id_column=FID, srid=int(srid))
            return gdf.drop(columns=FID).reset_index(drop=True)
        cur = conn.execute(f"SELECT * FROM {quote_ident(schema)}.{quote_ident(table)} ORDER BY {FID}")  # type: ignore[arg-type]
        cols = [d.name for d in cur.description or []]
        return pd.DataFrame.from_records(cur.fetchall(), columns=cols).drop(columns=FID)


def table_comment(settings: PostgisSettings, schema: str, table: str) -> str | None:
    """The comment of ``schema.table`` (None when it has none)."""
    with connection(settings) as conn:
        row = conn.execute(
            "SELECT obj_description(to_regclass(%s), 'pg_class')",
            (f"{quote_ident(schema)}.{quote_ident(table)}",),
        ).fetchone()
    return None if row is None else row[0]


__all__ = [
    "COMMENT_PREFIX",
    "DEFAULT_PASSWORD_ENV",
    "FID",
    "PostgisSettings",
    "check_dsn",
    "connect",
    "connection",
    "quote_ident",
    "read_layer",
    "read_table",
    "source_sql",
    "table_comment",
    "write_tables",
]
