"""The combined access cold-spot rule, FDR for Gi*, and threshold sensitivity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apgeo._errors import ApgeoValueError
from apgeo.analysis.coldspots import (
    access_coldspots,
    benjamini_hochberg_cutoff,
    coldspot_sensitivity,
    combine_coldspots,
)


def _tables():
    # 4 areas, 1 site serving KS3; times 10, 20, 32, 40 minutes
    tt = pd.DataFrame(
        {
            "origin_id": ["A", "B", "C", "D"],
            "destination_id": ["S1"] * 4,
            "travel_time_s": [600.0, 1200.0, 1920.0, 2400.0],
        }
    )
    demand = pd.DataFrame(
        {
            "area_id": ["A", "B", "C", "D"],
            "children_ks3": [10.0, 20.0, 30.0, 0.0],
            "idaci_decile": [1, 5, 10, 2],
            "imd_decile": [1, 5, 10, 2],
        }
    )
    providers = pd.DataFrame(
        {"site_id": ["S1"], "provider_id": ["P1"], "name": ["X"], "kind": ["pru"], "key_stages": ["KS3"], "capacity_places": [10.0]}
    )
    return tt, demand, providers


def test_bh_cutoff_hand_worked():
    # p sorted: .001 .008 .039 .041 .042 .06 ; alpha*i/n with n=6: .00833 .01667 .025 .0333 .04167 .05
    # p_(2) = .008 <= .01667 is the largest that passes (p_(3) .039 > .025, ..., p_(6) .06 > .05)
    p = np.array([0.041, 0.001, 0.06, 0.008, 0.042, 0.039])
    assert benjamini_hochberg_cutoff(p, alpha=0.05) == 0.008
    # step-up: a later p passing rescues earlier ones (p_(4) = .03 <= .0333 although p_(3) = .029 > .025)
    assert benjamini_hochberg_cutoff(np.array([0.001, 0.02, 0.029, 0.03, 0.5, 0.9]), alpha=0.05) == 0.03
    assert benjamini_hochberg_cutoff(np.array([0.5, 0.9]), alpha=0.05) == 0.0


def test_combined_rule_far_or_low_capacity():
    tt, demand, providers = _tables()
    cold = access_coldspots(tt, demand, providers, mode="walk", key_stages=["KS3"], max_travel_time_min=30)
    # C is far (32 min) with children; D is far but has no children: not a cold spot
    assert cold.set_index("area_id")["access_coldspot"].to_dict() == {"A": False, "B": False, "C": True, "D": False}
    capacity = pd.DataFrame(
        {
            "area_id": ["A", "B", "C", "D"],
            "mode": ["walk"] * 4,
            "capacity_coldspot": [False, True, False, True],
            "reason": ["", "0.5 places per 1,000", "", "0 places"],
            "key_stages": ["KS3+KS4"] * 4,
        }
    )
    combined = combine_coldspots(cold, capacity).set_index("area_id")
    assert combined["coldspot"].to_dict() == {"A": False, "B": True, "C": True, "D": False}
    assert combined.loc["B", "reasons"] == "low capacity: 0.5 places per 1,000"
    assert combined.loc["C", "low_capacity"] == False  # noqa: E712


def test_sensitivity_moves_with_threshold():
    tt, demand, providers = _tables()
    sens = coldspot_sensitivity(tt, demand, providers, mode="walk", key_stages=["KS3"], max_travel_time_min=30, delta_min=5)
    # thresholds 25 / 30 / 35 min: C (32 min) is cold at 25 and 30, not at 35
    assert sens["threshold_min"].tolist() == [25, 30, 35]
    assert sens["coldspot_areas"].tolist() == [1, 1, 0]
    assert sens["areas_removed"].tolist() == [0, 0, 1]
    assert sens["jaccard_with_base"].tolist() == [1.0, 1.0, 0.0]
    with pytest.raises(ApgeoValueError, match="delta_min must be positive and smaller than max_travel_time_min"):
        coldspot_sensitivity(tt, demand, providers, mode="walk", delta_min=40)
