"""A location model's integer program as arrays, and the two ways it is solved.

Each model (:mod:`~apgeo.planning.models.mclp`, :mod:`~apgeo.planning.models.pmedian`,
:mod:`~apgeo.planning.models.capacitated`) writes its integer program once, as an
:class:`IntegerProgram`: named columns with bounds, objective and integrality, and rows
held as a sparse row-wise matrix, all built with NumPy rather than one Python object per
variable. HiGHS takes the arrays directly (:func:`solve_with_highs`, what ``solver="auto"``
and ``"highs"`` use); any other PuLP solver (CBC, or a solver object a caller passes) gets the
same program as a PuLP problem (:func:`to_pulp`).

Columns are kept in the order of their names and rows in the order the model adds them,
the order PuLP hands a problem to HiGHS, so both routes give HiGHS the same model and
the same answer.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apgeo._shared_switch import SharedSwitch

__all__ = ["HighsSolver", "IlpResult", "IntegerProgram", "ProgramRows", "solve_with_highs", "to_pulp"]


@dataclass
class IlpResult:
    """What a solve of a location model's integer program gives back."""

    #: The model columns (candidate sites) of the chosen sites, ascending.
    chosen: list[int]
    status: str
    optimal: bool
    #: Values of the program's named extra columns (the capacitated models' assignments).
    values: dict[str, float]
    message: str


@dataclass
class ProgramRows:
    """Rows of an integer program, added in order: each a list of ``(column, coefficient)``
    given as two arrays, with its lower and upper bound (``-inf`` / ``inf`` for none).

    Many rows of one shape are added at once by :meth:`add_block`."""

    counts: list[np.ndarray] = field(default_factory=list)
    index: list[np.ndarray] = field(default_factory=list)
    value: list[np.ndarray] = field(default_factory=list)
    lower: list[np.ndarray] = field(default_factory=list)
    upper: list[np.ndarray] = field(default_factory=list)

    def add_block(
        self, counts: np.ndarray, index: np.ndarray, value: np.ndarray, lower: float | np.ndarray, upper: float | np.ndarray
    ) -> None:
        """Add ``len(counts)`` rows: row ``k`` holds the next ``counts[k]`` entries of
        ``index`` / ``value``.

        Parameters
        ----------
        counts
            Number of entries of each row.
        index
            Column of each entry (its position in the program's ``names``).
        value
            Coefficient of each entry.
        lower, upper
            Bounds of the rows (one for all, or one per row; ``-inf`` / ``inf`` for none).

        Returns
        -------
        None
        """
        counts = np.asarray(counts, dtype=np.int64)
        n = len(counts)
        self.counts.append(counts)
        self.index.append(np.asarray(index, dtype=np.int64))
        self.value.append(np.asarray(value, dtype=float))
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)))

    def add(self, index: Sequence[int] | np.ndarray, value: Sequence[float] | np.ndarray, lower: float, upper: float) -> None:
        """Add one row.

        Parameters
        ----------
        index
            Column of each entry (its position in the program's ``names``).
        value
            Coefficient of each entry.
        lower, upper
            The row's bounds (``-inf`` / ``inf`` for none).

        Returns
        -------
        None
        """
        self.add_block(np.array([len(index)]), np.asarray(index), np.asarray(value), lower, upper)


@dataclass(frozen=True)
class IntegerProgram:
    """A maximisation over named columns, with rows ``lower <= A x <= upper``.

    Build it with :meth:`build` from columns and :class:`ProgramRows` in the model's own
    order; the columns are then sorted by name and the rows point at the sorted columns."""

    name: str
    names: np.ndarray
    objective: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    row_start: np.ndarray
    row_index: np.ndarray
    row_value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    #: Model column (candidate site) -> program column of its open/closed variable.
    x_cols: Mapping[int, int]
    #: Name -> program column of each value read back (see :attr:`IlpResult.values`).
    extra: Mapping[str, int]

    @classmethod
    def build(
        cls,
        name: str,
        *,
        names: np.ndarray,
        objective: np.ndarray,
        integer: np.ndarray,
        rows: ProgramRows,
        x_cols: Mapping[int, int],
        extra: Mapping[str, int] | None = None,
    ) -> IntegerProgram:
        """Sort the columns by name (every column bounded by 0 and 1) and point the rows
        at them; entries with a zero coefficient are dropped.

        Parameters
        ----------
        name
            The program's name.
        names
            Column names (unique).
        objective
            Objective coefficient of each column (maximised).
        integer
            Whether each column is binary (else continuous in [0, 1]).
        rows
            The rows, over the columns' positions in ``names``.
        x_cols
            Model column -> position in ``names`` of its site variable.
        extra
            Value name -> position in ``names`` of the columns read back.

        Returns
        -------
        IntegerProgram
            The program, columns in name order.
        """
        names = np.asarray(names, dtype=str)
        order = np.argsort(names, kind="stable")
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
        counts = np.concatenate(rows.counts) if rows.counts else np.zeros(0, dtype=np.int64)
        index = np.concatenate(rows.index) if rows.index else np.zeros(0, dtype=np.int64)
        value = np.concatenate(rows.value) if rows.value else np.zeros(0)
        nonzero = value != 0
        if not nonzero.all():
            row_of = np.repeat(np.arange(len(counts)), counts)
            counts = np.bincount(row_of[nonzero], minlength=len(counts))
            index, value = index[nonzero], value[nonzero]
        start = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=start[1:])
        return cls(
            name=name,
            names=names[order],
            objective=np.asarray(objective, dtype=float)[order],
            col_lower=np.zeros(len(order)),
            col_upper=np.ones(len(order)),
            integer=np.asarray(integer, dtype=bool)[order],
            row_start=start,
            row_index=position[index],
            row_value=value,
            row_lower=np.concatenate(rows.lower) if rows.lower else np.zeros(0),
            row_upper=np.concatenate(rows.upper) if rows.upper else np.zeros(0),
            x_cols={int(j): int(position[k]) for j, k in x_cols.items()},
            extra={key: int(position[k]) for key, k in (extra or {}).items()},
        )

    @property
    def n_cols(self) -> int:
        """Number of columns."""
        return len(self.names)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.row_lower)

    def optimal(self, values: np.ndarray) -> IlpResult:
        """The chosen sites and named values of an optimal solution.

        Parameters
        ----------
        values
            Value of each column.

        Returns
        -------
        IlpResult
            Sites whose variable is above one half, and the named values.
        """
        chosen = sorted(j for j, k in self.x_cols.items() if values[k] > 0.5)
        extra = {key: float(values[k]) for key, k in self.extra.items()}
        return IlpResult(chosen, "Optimal", True, extra, "")


@dataclass(frozen=True)
class HighsSolver:
    """HiGHS through its own Python interface (one thread, silent), given a program's
    arrays directly."""

    time_limit_s: float


def _stdout_off() -> int | None:
    """Point descriptor 1 at the null device; returns a copy of what it was (``None``: the
    process has no descriptor 1)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except OSError:  # no descriptor 1 at all
        return None
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
    finally:
        os.close(null)
    return saved


def _stdout_back(saved: int | None) -> None:
    if saved is not None:
        os.dup2(saved, 1)
        os.close(saved)


_STDOUT_SILENCE = SharedSwitch(_stdout_off, _stdout_back)
_HIGHS_LOCK = threading.Lock()
_highs_banner_written = False


def native_stdout_silenced() -> AbstractContextManager[None]:
    """Silence the C-level standard output for the duration (the library never prints).

    A C library (HiGHS through PuLP, CBC) writes to file descriptor 1 whatever
    ``sys.stdout`` is (a notebook's or a test runner's stream has no descriptor of its
    own), so descriptor 1 itself is pointed at the null device. Threads share it: the
    first thread in silences it and the last one out restores it (two threads each
    saving and restoring it would leave it silenced for good).

    Returns
    -------
    AbstractContextManager[None]
        A context manager.
    """
    return _STDOUT_SILENCE.held()


def _quiet_highs() -> Any:
    """A new ``highspy.Highs`` that prints nothing. HiGHS writes its copyright banner
    once per process, when its first model is made (before ``output_flag`` can be
    set): only that one is made with standard output silenced, so a solve never
    silences what other threads print."""
    global _highs_banner_written
    import highspy

    with _HIGHS_LOCK:
        if _highs_banner_written:
            h = highspy.Highs()
        else:
            with native_stdout_silenced():
                h = highspy.Highs()
            _highs_banner_written = True
    h.setOptionValue("output_flag", False)
    return h


def solve_with_highs(program: IntegerProgram, solver: HighsSolver) -> IlpResult:
    """Solve ``program`` with HiGHS; report optimality honestly (time limits included).

    The model is handed over as PuLP hands it (columns, their integrality, then the rows;
    the objective negated and minimised), so HiGHS solves the same model either way.

    Parameters
    ----------
    program
        The integer program.
    solver
        The time limit.

    Returns
    -------
    IlpResult
        The chosen sites, or why there are none.
    """
    import highspy

    h = _quiet_highs()
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", float(solver.time_limit_s))
    n = program.n_cols
    h.addCols(
        n, -program.objective, program.col_lower, program.col_upper, 0,
        np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0),
    )
    integer = np.flatnonzero(program.integer).astype(np.int32)
    if len(integer):
        h.changeColsIntegrality(
            len(integer), integer, np.full(len(integer), highspy.HighsVarType.kInteger)
        )
    h.addRows(
        program.n_rows, program.row_lower, program.row_upper, len(program.row_index),
        program.row_start[:-1].astype(np.int32), program.row_index.astype(np.int32), program.row_value,
    )
    h.run()  # releases the GIL: other threads run while HiGHS solves
    status = h.getModelStatus()
    values = np.asarray(h.getSolution().col_value, dtype=float)
    S = highspy.HighsModelStatus
    if status == S.kOptimal:
        return program.optimal(values)
    if status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        return IlpResult([], "Infeasible", False, {}, "the integer program is infeasible")
    name = h.modelStatusToString(status)
    return IlpResult(
        [], name, False, {}, f"the solver stopped before proving optimality (status {name!r}, time limit reached?)"
    )


def to_pulp(program: IntegerProgram) -> tuple[Any, list[Any]]:
    """The program as a PuLP problem, for a solver other than HiGHS.

    Parameters
    ----------
    program
        The integer program.

    Returns
    -------
    tuple
        ``(problem, variables)``: the PuLP problem and its variable of each column, in
        the program's order (read a solution back with :meth:`IntegerProgram.optimal`).
    """
    import pulp

    prob = pulp.LpProblem(program.name, pulp.LpMaximize)
    variables = [
        prob.add_variable(str(name), 0, 1, cat="Binary" if integer else "Continuous")
        for name, integer in zip(program.names.tolist(), program.integer.tolist(), strict=True)
    ]
    prob += pulp.LpAffineExpression(
        [(variables[k], float(c)) for k, c in enumerate(program.objective.tolist()) if c != 0]
    )
    for r in range(program.n_rows):
        lo, hi = float(program.row_lower[r]), float(program.row_upper[r])
        sl = slice(int(program.row_start[r]), int(program.row_start[r + 1]))
        expr = pulp.LpAffineExpression(
            [(variables[k], float(a)) for k, a in zip(program.row_index[sl].tolist(), program.row_value[sl].tolist(), strict=True)]
        )
        if lo == hi:
            prob += expr == lo
        else:
            if math.isfinite(hi):
                prob += expr <= hi
            if math.isfinite(lo):
                prob += expr >= lo
    return prob, variables
