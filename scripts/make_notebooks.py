"""Write the numbered notebooks (outputs stripped) from the cell lists below.

Run from the repository root: PYTHONPATH=$PWD .venv/bin/python scripts/make_notebooks.py
The notebooks are thin: they use apgeo's public modules only.
"""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parent.parent / "notebooks"

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01_data_and_providers.ipynb": [
        ("md", "# 1. Data and providers\n\nThe committed Sheffield data, its manifest, the providers and the demand areas."),
        ("code", "from apgeo.inputs.data import verify_manifest\nfrom apgeo.inputs.demand import load_demand\nfrom apgeo.inputs.providers import load_sheffield_providers, split_located\n\nmanifest = verify_manifest()\nmanifest[['file', 'data_date', 'licence']]"),
        ("code", "providers = load_sheffield_providers()\nlocated, not_located = split_located(providers)\nprint(len(located), 'located sites;', len(not_located), 'not located')\nproviders.groupby('kind').size()"),
        ("code", "not_located[['name', 'kind', 'key_stages', 'location_note']]"),
        ("code", "demand = load_demand()\ndemand[['children_ks1', 'children_ks2', 'children_ks3', 'children_ks4']].sum()"),
        ("code", "demand.groupby('imd_decile')['children_school_age'].sum()"),
    ],
    "02_networks_and_travel_times.ipynb": [
        ("md", "# 2. Networks and travel times\n\nA synthetic grid with a hand-checkable answer, then the Sheffield straight-line estimate (no street network offline)."),
        ("code", "import geopandas as gpd\nfrom shapely.geometry import Point\n\nfrom apgeo.network.synthetic import grid_network\nfrom apgeo.routing.travel_times import TravelTimeEngine, travel_time_table\n\nG = grid_network(5, 5, spacing_m=100, mode='walk')\nengine = TravelTimeEngine.from_graph(G)\nx0, y0 = min(d['x'] for _, d in G.nodes(data=True)), min(d['y'] for _, d in G.nodes(data=True))\na = gpd.GeoDataFrame({'id': ['corner']}, geometry=[Point(x0, y0)], crs=G.graph['crs'])\nb = gpd.GeoDataFrame({'id': ['far corner']}, geometry=[Point(x0 + 400, y0 + 400)], crs=G.graph['crs'])\ntravel_time_table(engine, a, b, origin_id_column='id', destination_id_column='id')  # 800 m at 4.8 km/h = 600 s"),
        ("code", "from apgeo.inputs.demand import demand_points, load_demand\nfrom apgeo.inputs.providers import load_sheffield_providers, split_located\nfrom apgeo.routing.straight_line import straight_line_travel_times\n\nsites, _ = split_located(load_sheffield_providers())\nareas = demand_points(load_demand())\ntt = straight_line_travel_times(areas, sites, origin_id_column='area_id', destination_id_column='site_id', mode='walk')\nprint(tt.attrs['method'])\ntt.head()"),
    ],
    "03_coverage_and_cold_spots.ipynb": [
        ("md", "# 3. Coverage, capacity and cold spots\n\nFrom the long travel-time table: nearest AP site, coverage by key stage, places per 1,000 children (E2SFCA) and access cold spots. Straight-line estimate offline: every figure is labelled so."),
        ("code", "from apgeo.analysis.coldspots import access_coldspots\nfrom apgeo.analysis.coverage import coverage_summary\nfrom apgeo.inputs.demand import demand_points, load_demand\nfrom apgeo.inputs.providers import load_sheffield_providers, split_located\nfrom apgeo.routing.straight_line import straight_line_travel_times\n\ndemand = load_demand()\nsites, _ = split_located(load_sheffield_providers())\ntt = straight_line_travel_times(demand_points(demand), sites, origin_id_column='area_id', destination_id_column='site_id', mode='cycle')\nap = ['inclusion_centre', 'primary_ap_hub', 'hospital_education']\ncoverage_summary(tt, demand, sites, mode='cycle', kinds=ap, key_stages=['KS1', 'KS2', 'KS3', 'KS4'])"),
        ("code", "cold = access_coldspots(tt, demand, sites, mode='cycle', kinds=ap, key_stages=['KS3'], max_travel_time_min=30)\ncold[cold['access_coldspot']].sort_values('priority_score', ascending=False).head(10)[['area_id', 'priority_score', 'reason']]"),
        ("code", "from apgeo.analysis.access import enhanced_two_step_fca\n\n# apgeo warns that sites of unknown capacity (here Becton School) are left out of the\n# supply: read the warning below, and add their places if you know them\ne2 = enhanced_two_step_fca(tt, demand, sites, mode='cycle', kinds=ap, key_stages=['KS1', 'KS2'])\ne2['places_per_1000'].describe()"),
    ],
    "04_recommendations_and_scenarios.ipynb": [
        ("md", "# 4. Recommendations and scenarios\n\nWhere new primary AP capacity would reach the most need (maximal covering, exact), explained; then a scenario: the Inclusion Centre's main site alone. Straight-line estimate offline."),
        ("code", "import pandas as pd\n\nfrom apgeo.inputs.demand import demand_points, load_demand\nfrom apgeo.inputs.providers import load_sheffield_providers, split_located\nfrom apgeo.planning.candidates import gias_candidate_sites\nfrom apgeo.planning.recommend import recommend_sites\nfrom apgeo.routing.straight_line import straight_line_travel_times\n\ndemand = load_demand()\nsites, _ = split_located(load_sheffield_providers())\nap = sites[sites['kind'].isin(['inclusion_centre', 'primary_ap_hub', 'hospital_education'])]\ncandidates = gias_candidate_sites(phases=('Primary',))\npoints = demand_points(demand)\ntt = pd.concat([\n    straight_line_travel_times(points, ap, origin_id_column='area_id', destination_id_column='site_id', mode='walk'),\n    straight_line_travel_times(points, candidates, origin_id_column='area_id', destination_id_column='site_id', mode='walk'),\n])\nrec = recommend_sites(tt, demand, ap, candidates, mode='walk', p=3, key_stages=['KS1', 'KS2'])\nrec[['rank', 'site_name', 'ward_name', 'children_newly_within_t', 'coldspots_resolved', 'why']]"),
        ("code", "from apgeo.planning.scenarios import Scenario, compare_scenarios\n\nap_tt = tt[tt['destination_id'].isin(ap['site_id'])]\nalone = Scenario('Inclusion Centre alone')\nfor sid in ap.loc[ap['kind'] != 'inclusion_centre', 'site_id']:\n    alone = alone.close_site(sid)\n# the warning below names the sites of unknown capacity: they are left out of places per 1,000\ntable = compare_scenarios(ap_tt, demand, ap, alone, mode='walk', key_stages=['KS1', 'KS2'])\ntable[table['key_stage'] == 'all']"),
    ],
    "05_placements_synthetic.ipynb": [
        ("md", "# 5. Placements and travel burden (SYNTHETIC data)\n\nA seeded generator draws 1,000 plausible placements; they are aggregated to LSOA at load, and every published table is suppressed (no count of 1-4). **These are synthetic placements, not real pupils.**"),
        ("code", "from apgeo.analysis.burden import placement_travel_times\nfrom apgeo.inputs.demand import demand_points, load_demand\nfrom apgeo.inputs.placements import load_placements\nfrom apgeo.inputs.providers import load_sheffield_providers, split_located\nfrom apgeo.inputs.synthetic_placements import synthetic_placements\nfrom apgeo.privacy.publish import publish_placement_tables\nfrom apgeo.routing.straight_line import straight_line_travel_times\n\nrows = synthetic_placements(1000, random_state=1, as_of='2025-03-31')\n# rows that cannot be counted are warned about by row number (never by postcode)\nplacements = load_placements(rows, as_of='2025-03-31')\nprint(placements.attrs['title'], len(placements), 'aggregated rows')"),
        ("code", "demand = load_demand()\nsites, _ = split_located(load_sheffield_providers())\ntt = straight_line_travel_times(demand_points(demand), sites, origin_id_column='area_id', destination_id_column='site_id', mode='drive')\ntimes = placement_travel_times(placements, tt, mode='drive')\ntables = publish_placement_tables(times)\ntables['burden_key_stage']"),
    ],
    "06_any_authority_and_england.ipynb": [
        ("md", "# 6. Any English authority, and England\n\nThe same method for another authority (Leeds, DfE LA 383) from the committed England extract, with the council's own provider file; then every authority compared. Offline, demand areas outside Sheffield are LSOA centroids with children aged 0-15 (mid-2015) split into key stages by single years of age, and travel times are the labelled straight-line estimate."),
        ("code", "import pandas as pd\n\nfrom apgeo.inputs.areas import KEY_STAGE_SPLIT_RULE, resolve_area\nfrom apgeo.inputs.landscape import load_area_inputs, load_study_providers\n\narea = resolve_area(383)\ninputs = load_area_inputs(area)\nprint(area, '-', len(inputs.demand), 'LSOAs; polygons offline:', inputs.polygons)\nprint(KEY_STAGE_SPLIT_RULE)"),
        ("code", "import tempfile\nfrom pathlib import Path\n\n# a council's own providers: one row by postcode, one by coordinates, a provider with two sites\nown = pd.DataFrame({\n    'provider_id': ['HUB', 'HUB', 'TUITION'],\n    'site_id': ['HUB-1', 'HUB-2', 'TUITION-1'],\n    'name': ['Primary AP hub (east)', 'Primary AP hub (west)', 'Tuition centre'],\n    'kind': ['primary_ap_hub', 'primary_ap_hub', 'pru'],\n    'key_stages': ['KS1,KS2', 'KS1,KS2', 'KS3,KS4'],\n    'capacity_places': [12, 12, 40],\n    'postcode': ['LS9 8AG', None, 'LS1 1UR'],\n    'easting': [None, 425500, None],\n    'northing': [None, 433000, None],\n})\nown_file = Path(tempfile.mkdtemp()) / 'own_providers.csv'  # in practice: the council's own file\nown.to_csv(own_file, index=False)\nproviders = load_study_providers(inputs, files=[own_file])\nproviders[['site_id', 'name', 'kind', 'in_area', 'nearest_authority', 'location_note']].head(8)"),
        ("code", "from apgeo.analysis.coverage import coverage_summary\nfrom apgeo.inputs.demand import demand_points\nfrom apgeo.inputs.providers import split_located\nfrom apgeo.routing.straight_line import straight_line_travel_times\n\nsites, _ = split_located(providers)\ntt = straight_line_travel_times(demand_points(inputs.demand), sites, origin_id_column='area_id', destination_id_column='site_id', mode='walk')\ncoverage_summary(tt, inputs.demand, sites, mode='walk', key_stages=['KS3', 'KS4'])[['key_stage', 'children', 'share_within_30_min', 'travel_time_method']]"),
        ("code", "from apgeo.analysis.england import comparators, england_comparison\nfrom apgeo.inputs.areas import ap_settings_england, load_gias_england\n\ntable = england_comparison(modes=['walk'], ap_settings=ap_settings_england(load_gias_england()))\ncomparators(table, 'Sheffield')[['group', 'la_name', 'share_within_30_min_any', 'median_time_min_any', 'rank']]"),
    ],
    "07_isle_of_wight_real_streets.ipynb": [
        ("md", "# 7. A whole authority on real streets: the Isle of Wight\n\nThe island's OpenStreetMap extract (1 January 2015, committed in `data/osm/` with its hash) gives walk and drive times on real streets; the same journeys as a straight-line estimate sit beside them, so you can see how far the estimate is off here. Then a walking catchment and the island's buses (a reduced 2018 timetable of 8 routes). **Old streets**: real, but not today's network."),
        ("code", "import pandas as pd\n\nfrom apgeo.inputs.demand import demand_points\nfrom apgeo.inputs.landscape import load_area_inputs, load_study_providers\nfrom apgeo.inputs.providers import split_located\nfrom apgeo.network.provenance import read_pbf_header\nfrom apgeo.schema import AP_KIND_NAMES\n\nPBF = '../data/osm/isle_of_wight_osm_2015-01-01.osm.pbf'\nprint('OSM data of', read_pbf_header(PBF).data_date)\ninputs = load_area_inputs('Isle of Wight')\nsites, _ = split_located(load_study_providers(inputs))\nap = sites[sites['kind'].isin(AP_KIND_NAMES)]\nareas = demand_points(inputs.demand)\nprint(len(areas), 'LSOAs;', len(ap), 'AP site(s):', ', '.join(ap['name']))"),
        ("code", "from apgeo.routing.engine_arrays import load_engines\nfrom apgeo.routing.straight_line import straight_line_travel_times\nfrom apgeo.routing.travel_times import travel_time_table\n\nengines = load_engines(PBF, modes=['walk', 'drive'], polygon=inputs.boundary, buffer_m=3000)\nrows = []\nfor mode, engine in engines.items():\n    street = travel_time_table(engine, areas, ap, origin_id_column='area_id', destination_id_column='site_id')\n    line = straight_line_travel_times(areas, ap, origin_id_column='area_id', destination_id_column='site_id', mode=mode)\n    nearest = pd.DataFrame({\n        'street_min': street.groupby('origin_id')['travel_time_s'].min() / 60,\n        'straight_line_min': line.groupby('origin_id')['travel_time_s'].min() / 60,\n    })\n    nearest['ratio'] = nearest['street_min'] / nearest['straight_line_min']\n    flips = ((nearest['street_min'] <= 30) != (nearest['straight_line_min'] <= 30)).mean()\n    rows.append({'mode': mode, 'areas': len(nearest), 'median street min': nearest['street_min'].median(),\n                 'median straight-line min': nearest['straight_line_min'].median(),\n                 'median ratio street / straight line': nearest['ratio'].median(),\n                 'ratio 10th-90th percentile': f\"{nearest['ratio'].quantile(0.1):.2f}-{nearest['ratio'].quantile(0.9):.2f}\",\n                 'areas whose 30-min coverage flips': f'{flips:.0%}'})\npd.DataFrame(rows).round(2)"),
        ("md", "A ratio below 1 means the straight-line estimate is *too slow* here (rural roads are faster than 30 km/h); above 1, too fast. The README's table gives the same measurement on every real network in `../shared/data` (`scripts/measure_straight_line.py`)."),
        ("code", "from apgeo.analysis.catchments import catchments\n\nwalk_catchment = catchments(engines['walk'], ap.head(1), thresholds_min=[15, 30], mode='walk', demand=inputs.demand, key_stages=['KS3', 'KS4'])\nwalk_catchment.drop(columns='geometry')"),
        ("code", "from apgeo.routing.transit.feeds import MultiFeedTransitEngine, load_merged_feed\nfrom apgeo.routing.transit.travel_time_table import transit_travel_time_table\n\nfeed = load_merged_feed({'iow_bus': '../data/transit/iow_bus_gtfs_subset_2018.zip'}, service_date='2018-05-15')\nbus = MultiFeedTransitEngine(feed, engines['walk'])\nbus_times = transit_travel_time_table(bus, areas, ap, origin_id_column='area_id', destination_id_column='site_id', departure_window=('08:00', '09:00'), step_min=5, percentile=50)\nnearest_bus = bus_times.groupby('origin_id')['travel_time_s'].min()\nprint(f'{nearest_bus.notna().sum()} of {len(nearest_bus)} areas reach an AP site by bus and walking '\n      f'within the search cap; {nearest_bus.isna().sum()} do not (a reduced 8-route timetable).')"),
    ],
}


def main() -> None:
    ROOT.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nb = nbf.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src) for kind, src in cells]
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"cell-{i}"
        nbf.write(nb, ROOT / name)
        print("wrote", ROOT / name)


if __name__ == "__main__":
    main()
