"""Write the test inputs of PySAL spopt's ``locate`` tests as small CSV fixtures.

tests/test_peers.py reproduces spopt's published cases with apgeo. Its inputs come from
spopt's own test suite: the synthetic lattice instances (built there with spaghetti on a
10 x 10 lattice, points simulated with fixed seeds) and the data files spopt ships
(San Francisco stores and tracts, the example schools). This script rebuilds them exactly
as spopt's ``conftest.py`` and test modules do and writes them under
``tests/data/peers/`` as plain matrices, so the tests run without spaghetti or spopt's
test folder. Run it again after an spopt upgrade and compare the diff.

    python scripts/make_peer_fixtures.py
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "peers"


def _lattice(client_count: int, facility_count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """spopt's ``network_instance`` fixture: network and Euclidean costs on a 10 x 10 lattice."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import spaghetti
        from spopt.locate.util import simulated_geo_points

        lattice = spaghetti.regular_lattice((0, 0, 10, 10), 9, exterior=True)
        ntw = spaghetti.Network(in_data=lattice)
        gdf = spaghetti.element_as_gdf(ntw, arcs=True)
        street = gdf[["geometry"]].copy()
        street = street.set_geometry(street.buffer(0.2))
        space = street.union_all()
        import geopandas

        street = geopandas.GeoDataFrame(geometry=geopandas.GeoSeries([space]), crs=gdf.crs)
        clients = simulated_geo_points(street, needed=client_count, seed=5)
        ntw.snapobservations(clients, "clients", attribute=True)
        clients_snapped = spaghetti.element_as_gdf(ntw, pp_name="clients", snapped=True)
        facilities = simulated_geo_points(street, needed=facility_count, seed=6)
        ntw.snapobservations(facilities, "facilities", attribute=True)
        facilities_snapped = spaghetti.element_as_gdf(ntw, pp_name="facilities", snapped=True)
        network = ntw.allneighbordistances(
            sourcepattern=ntw.pointpatterns["clients"], destpattern=ntw.pointpatterns["facilities"]
        )
    a = np.column_stack([clients_snapped.geometry.x, clients_snapped.geometry.y])
    b = np.column_stack([facilities_snapped.geometry.x, facilities_snapped.geometry.y])
    euclidean = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))
    return np.asarray(network, dtype=float), euclidean, a


def _write_matrix(name: str, matrix: np.ndarray, first: dict[str, np.ndarray], prefix: str) -> None:
    table = pd.DataFrame(first)
    for j in range(matrix.shape[1]):
        table[f"{prefix}{j}"] = matrix[:, j]
    table.to_csv(OUT / name, index=False)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    import spopt

    data = Path(spopt.__file__).parent / "tests" / "test_locate" / "data"

    # test_c_p_median.py: 2 clients x 3 facilities
    network, _, _ = _lattice(2, 3)
    _write_matrix("lattice_2x3.csv", network, {"client": np.arange(2)}, "fac_")

    # test_mclp.py / test_p_median.py: 100 clients x 5 facilities; weights drawn right after
    # the facilities are simulated (seed 6), as the tests do
    network, euclidean, _ = _lattice(100, 5)
    weights = np.random.randint(1, 12, 100)  # noqa: NPY002 - spopt draws from the legacy global state
    first = {"client": np.arange(100), "weight": weights}
    _write_matrix("lattice_100x5_network.csv", network, first, "fac_")
    _write_matrix("lattice_100x5_euclidean.csv", euclidean, first, "fac_")

    # San Francisco: 205 tracts x 16 candidate stores, network distance in metres
    dist = pd.read_csv(data / "SF_network_distance_candidateStore_16_censusTract_205_new.csv")
    piv = dist.pivot_table(values="distance", index="DestinationName", columns="name")
    demand = pd.read_csv(data / "SF_demand_205_centroid_uniform_weight.csv").sort_values("NAME")
    table = pd.DataFrame({"tract": piv.index.astype(str), "pop2000": demand["POP2000"].to_numpy()})
    table = pd.concat([table, piv.reset_index(drop=True)], axis=1)
    table.to_csv(OUT / "sf_distance_m.csv", index=False)

    # example schools: 10 students x 74 schools, public-transport minutes (10000 = no journey)
    journeys = pd.read_csv(data / "example_subject_student_school_journeys.csv")
    cost = journeys.pivot_table(
        columns="school", fill_value=10000, index="student", sort=False, values="time"
    ).astype(int)
    schools = pd.read_csv(data / "example_subject_schools.csv", index_col=0)
    if list(cost.columns) != list(schools["SE2 PP: Code"]):
        raise SystemExit("school order differs between the journeys and the schools table")
    cost.reset_index().to_csv(OUT / "schools_time_min.csv", index=False)
    schools[["SE2 PP: Code", "Count", "priority"]].rename(
        columns={"SE2 PP: Code": "school", "Count": "capacity", "priority": "priority"}
    ).to_csv(OUT / "schools.csv", index=False)
    print(f"wrote fixtures to {OUT}")


if __name__ == "__main__":
    main()
