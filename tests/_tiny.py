"""The hand-worked 4-area x 3-site example shared by the coverage, access and cold-spot tests.

Times in minutes (x = NaN, - = pair missing)::

    ======  ====  ====  ====
    area    s1    s2    s3
    ======  ====  ====  ====
    A       10    20     5
    B       35     x    40
    C       50     -    25
    D        x    70     -
    ======  ====  ====  ====

Sites: s1 (provider p1, PRU) KS3+KS4 10 places; s2 (p2, primary AP hub) KS1+KS2 6 places;
s3 (p1, inclusion centre) KS3 4 places.
Children: KS2 A10 B20 C0 D30; KS3 A30 B10 C40 D20; KS1 = KS4 = KS5 = 0.
IMD decile: A1 B1 C10 D10. IDACI decile: A1 B2 C10 D10.
need_count: A 4, B NaN (suppressed), C 8, D 2.
"""

from __future__ import annotations

import pandas as pd

NAN = float("nan")
MIN = 60.0


def tiny_tables(*, unsorted: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(travel_times, demand, providers)``; ``unsorted=True`` lists areas D, C, B, A."""
    demand = pd.DataFrame(
        {
            "area_id": ["A", "B", "C", "D"],
            "children_ks1": [0.0] * 4,
            "children_ks2": [10.0, 20.0, 0.0, 30.0],
            "children_ks3": [30.0, 10.0, 40.0, 20.0],
            "children_ks4": [0.0] * 4,
            "children_ks5": [0.0] * 4,
            "imd_decile": [1, 1, 10, 10],
            "idaci_decile": [1, 2, 10, 10],
            "need_count": [4.0, NAN, 8.0, 2.0],
        }
    )
    if unsorted:
        demand = demand.iloc[::-1].reset_index(drop=True)
    providers = pd.DataFrame(
        {
            "site_id": ["s1", "s2", "s3"],
            "provider_id": ["p1", "p2", "p1"],
            "name": ["Pru One", "Hub Two", "Centre Three"],
            "kind": ["pru", "primary_ap_hub", "inclusion_centre"],
            "key_stages": ["KS3,KS4", "KS1,KS2", "KS3"],
            "capacity_places": [10.0, 6.0, 4.0],
        }
    )
    rows = [
        ("A", "s1", 10), ("A", "s2", 20), ("A", "s3", 5),
        ("B", "s1", 35), ("B", "s2", NAN), ("B", "s3", 40),
        ("C", "s1", 50), ("C", "s3", 25),
        ("D", "s1", NAN), ("D", "s2", 70),
    ]  # fmt: skip
    travel_times = pd.DataFrame(
        [(o, d, t * MIN) for o, d, t in rows],
        columns=["origin_id", "destination_id", "travel_time_s"],
    )
    return travel_times, demand, providers
