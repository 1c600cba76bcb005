"""Every placement table a study publishes, audited as one system of linked counts.

Tables checked one at a time (or in pairs) can still leak together: an outsider who reads
all the published files writes one linear programme in which a flow row's total is that
school's burden total, flow columns summed by provider kind are the burden-by-kind totals,
the time-in-AP open and ended counts add up to the burden totals of the same groups, and
every table adds up to the same whole. This module builds exactly that system
(:class:`LinkedTables`) from the counts before suppression and the blanks chosen so far,
and hides more entries, chosen over the whole system, until no blank has a single possible
value (:func:`protect_linked`: the audit of :func:`apgeo.privacy.disclosure.disclosed_cells`
is the arbiter; the choice of what to hide is that of its secondary suppression: the
smallest shown cell sharing a relation with the disclosed blank, then a margin total, a
grand total last).

What the system holds:

* every entry of every two-way table (cells, row totals, column totals, grand total) with
  its row and column sums; one quantity published in several tables is one entry (a
  school's total in the by-school burden table, the flow matrix and the time-in-AP table;
  the band totals of the four burden tables; the ``all`` rows of the three time-in-AP
  tables);
* sums of entries published elsewhere (provider totals summed by kind);
* orders between counts (``a <= b``, e.g. returned <= ended), as equations with a hidden
  slack ``s >= 0``;
* zeros are shown, so a blank is at least 1, except a count of a time-in-AP row withheld
  whole (its total is blank), which may be 0.

The flow lines, the flow map's popups and line widths and the furthest-schools table repeat
entries of the flow matrix and of the by-school burden table: they add no relation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from apgeo.privacy.disclosure import _protect

#: The label of total rows and columns.
ALL = "all"

Entry = tuple[str, object, object]


@dataclass
class LinkedTables:
    """Tables of counts and the relations between them (see the module)."""

    frames: dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]] = field(default_factory=dict)
    #: per table: the columns whose row sum is the ``all`` column (None: every column)
    row_sums: dict[str, list[object] | None] = field(default_factory=dict)
    same: list[tuple[Entry, Entry]] = field(default_factory=list)
    sums: list[tuple[Entry, list[Entry]]] = field(default_factory=list)
    orders: list[tuple[Entry, Entry]] = field(default_factory=list)

    def add(
        self,
        name: str,
        full: pd.DataFrame,
        hidden: pd.DataFrame,
        *,
        lower: pd.DataFrame | None = None,
        row_sum: Sequence[object] | None = None,
    ) -> None:
        """A table with an ``all`` row (column sums) and an ``all`` column (the sum of the
        ``row_sum`` columns, default every other column); ``hidden`` marks its blanks;
        ``lower`` the least value of each entry (default 1).

        Parameters
        ----------
        name
            The table's name (the key of the masks :func:`protect_linked` returns).
        full
            The table's counts, its last row and last column being the ``all`` totals.
        hidden
            Boolean frame shaped like ``full``: ``True`` where the entry is blanked.
        lower
            Least possible value of each entry, shaped like ``full`` (``None``: 1 everywhere).
        row_sum
            Columns whose sum the ``all`` column is (``None``: every column but the last).
        """
        low = pd.DataFrame(1.0, index=full.index, columns=full.columns) if lower is None else lower
        self.frames[name] = (full.astype(float), hidden.astype(bool), low.astype(float))
        self.row_sums[name] = None if row_sum is None else list(row_sum)

    def system(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """``(values, hidden, lower, equations, positions, cells, grands)`` of the whole
        system; ``positions[name]`` maps each entry of a table to its column; slacks of
        the orders come last (hidden, lower bound 0).

        Returns
        -------
        values : numpy.ndarray
            Value of each unknown (entries that must be equal share one), float.
        hidden : numpy.ndarray
            Boolean: the unknown is blanked in some table.
        lower : numpy.ndarray
            Least value of each unknown (0 for the order slacks).
        equations : numpy.ndarray
            One row per linear equation (row sums, column sums, declared sums, orders), one
            column per unknown; each row sums to zero.
        positions : dict of str to numpy.ndarray
            For each table, the unknown of each of its entries (same shape as the table).
        cells : numpy.ndarray
            Boolean: the unknown is an inner cell (not a total) of some table.
        grands : numpy.ndarray
            Boolean: the unknown is the grand total of some table.
        """
        pos: dict[Entry, int] = {}
        grids: dict[str, np.ndarray] = {}
        for name, (full, _, _) in self.frames.items():
            r, c = full.shape
            grids[name] = np.arange(len(pos), len(pos) + r * c).reshape(r, c)
            for i, row in enumerate(full.index):
                for j, col in enumerate(full.columns):
                    pos[(name, row, col)] = int(grids[name][i, j])
        n = len(pos)
        parent = np.arange(n)

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = int(parent[i])
            return i

        for a, b in self.same:
            if a in pos and b in pos:
                ra, rb = root(pos[a]), root(pos[b])
                parent[max(ra, rb)] = min(ra, rb)
        reps = np.array([root(i) for i in range(n)], dtype=int)
        _, col_of = np.unique(reps, return_inverse=True)
        m = int(col_of.max()) + 1 if n else 0
        blank = np.zeros(m, dtype=bool)
        for name, (_, mask, _) in self.frames.items():
            np.logical_or.at(blank, col_of[grids[name]].ravel(), mask.to_numpy().ravel())
        # an order between two shown counts tells nothing
        orders = [
            (pos[a], pos[b]) for a, b in self.orders
            if a in pos and b in pos and (blank[col_of[pos[a]]] or blank[col_of[pos[b]]])
        ]
        size = m + len(orders)
        values = np.zeros(size)
        hidden = np.zeros(size, dtype=bool)
        lower = np.ones(size)
        cell = np.zeros(size, dtype=bool)
        grand = np.zeros(size, dtype=bool)
        rows: list[dict[int, float]] = []
        positions: dict[str, np.ndarray] = {}
        for name, (full, mask, low) in self.frames.items():
            grid = col_of[grids[name]]
            positions[name] = grid
            values[grid.ravel()] = full.to_numpy().ravel()
            np.logical_or.at(hidden, grid.ravel(), mask.to_numpy().ravel())
            np.minimum.at(lower, grid.ravel(), low.to_numpy().ravel())
            cell[grid[:-1, :-1].ravel()] = True
            grand[grid[-1, -1]] = True
            wanted = self.row_sums[name]
            parts = [j for j, c in enumerate(full.columns[:-1]) if wanted is None or c in wanted]
            for i in range(grid.shape[0]):
                e: dict[int, float] = {}
                for j in parts:
                    e[int(grid[i, j])] = e.get(int(grid[i, j]), 0.0) + 1.0
                e[int(grid[i, -1])] = e.get(int(grid[i, -1]), 0.0) - 1.0
                rows.append(e)
            for j in range(grid.shape[1]):
                e = {}
                for i in range(grid.shape[0] - 1):
                    e[int(grid[i, j])] = e.get(int(grid[i, j]), 0.0) + 1.0
                e[int(grid[-1, j])] = e.get(int(grid[-1, j]), 0.0) - 1.0
                rows.append(e)
        for total, members in self.sums:
            idx = [pos[p] for p in members if p in pos]
            if total in pos and idx:
                e = {}
                for i in idx:
                    e[int(col_of[i])] = e.get(int(col_of[i]), 0.0) + 1.0
                e[int(col_of[pos[total]])] = e.get(int(col_of[pos[total]]), 0.0) - 1.0
                rows.append(e)
        for k, (small, large) in enumerate(orders):
            s = m + k
            values[s] = values[col_of[large]] - values[col_of[small]]
            hidden[s] = True
            lower[s] = 0.0
            rows.append({int(col_of[small]): 1.0, int(col_of[large]): -1.0, s: 1.0})
        eq = np.zeros((len(rows), size))
        for r, e in enumerate(rows):
            for j, coef in e.items():
                eq[r, j] += coef
        eq = eq[np.any(eq != 0, axis=1)]
        return values, hidden, lower, eq, positions, cell, grand


def protect_linked(tables: LinkedTables) -> dict[str, pd.DataFrame]:
    """Hide more entries, chosen over the whole system, until no blank of any table can
    be worked out from all the tables together. Returns the new blank mask of each table
    (a superset of the one given).

    Parameters
    ----------
    tables
        The linked tables, their blanks and the relations between them.

    Returns
    -------
    dict of str to pandas.DataFrame
        For each table name, a boolean frame shaped like the table: ``True`` where the entry
        is to be blanked (every entry blanked before, plus the new ones).
    """
    values, hidden, lower, eq, positions, cell, grand = tables.system()
    watched = np.ones(len(values), dtype=bool)
    n_orders = len(values) - (int(max((p.max() for p in positions.values()), default=-1)) + 1)
    if n_orders:
        watched[-n_orders:] = False
    cell[~watched] = False
    new, _ = _protect(values, eq, hidden, n_cells=0, cell_mask=cell, grand_mask=grand, lower=lower, watched=watched)
    out: dict[str, pd.DataFrame] = {}
    for name, (full, mask, _) in tables.frames.items():
        out[name] = pd.DataFrame(new[positions[name]] | mask.to_numpy(), index=full.index, columns=full.columns)
    return out


def withheld_sentence(added: Mapping[str, int], coarsened: Sequence[str] = ()) -> str:
    """One sentence for the report: which tables had counts blanked beyond the 1-4 rule
    (and how many), and which were published coarser.

    Parameters
    ----------
    added
        Number of further blanks by table name; tables with 0 are left out of the sentence.
    coarsened
        Names of the tables published coarser instead.

    Returns
    -------
    str
        The sentence, ending with a full stop.
    """
    parts = [f"{k} ({v})" for k, v in added.items() if v]
    text = (
        "Beyond the counts of 1-4, these tables have further counts blanked so that no blank "
        "can be worked out from all the published tables read together (number of such blanks): "
        + "; ".join(parts)
        + "."
        if parts
        else "No count beyond those of 1-4 had to be blanked: no blank can be worked out from "
        "all the published tables read together."
    )
    if coarsened:
        text += " Published coarser to protect them: " + "; ".join(coarsened) + "."
    return text


__all__ = ["LinkedTables", "protect_linked", "withheld_sentence"]
