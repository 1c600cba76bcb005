"""Stage 6, privacy: nothing about children leaves apgeo before it is safe to publish.

Comes in: counts that describe children (need per area, placement tables).
Goes out: the same tables with small numbers suppressed (primary and secondary
suppression, ``suppression``), checked by an exact audit that no suppressed cell can be
worked out from what is published beside it (``disclosure``; with the means and
medians beside the counts, ``statistics_check``), and published together with consistent
suppression across linked tables (``publish``, ``publish_time_in_ap``), every placement
table audited with all the others as one system of linked counts (``linked_tables``).

Next stage: :mod:`apgeo.outputs`.
"""

from __future__ import annotations

from apgeo._lazy import lazy_exports

#: Public names of the subpackage, each imported from its module on first use.
_LAZY: dict[str, str] = {
    "suppress_counts": "apgeo.privacy.suppression",
    "disclosed_cells": "apgeo.privacy.disclosure",
    "protect_table": "apgeo.privacy.disclosure",
    "publish_placement_tables": "apgeo.privacy.publish",
    "protect_linked": "apgeo.privacy.linked_tables",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

__all__ = sorted(_LAZY)
