"""Short HTML summaries for notebooks (``_repr_html_``): a caption, the method label and a
small two-column table, never the whole data."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def html_summary(title: str, rows: Iterable[tuple[str, object]], *, method: str | None = None) -> str:
    """A notebook summary: bold ``title``, the ``method`` label, then a key/value table.

    Parameters
    ----------
    title
        What the object is.
    rows
        ``(label, value)`` pairs, shown in order; values are formatted and escaped.
    method
        How the numbers were made (shown under the title), or ``None``.

    Returns
    -------
    str
        An HTML fragment.
    """
    body = "".join(
        f'<tr><th style="text-align:left;padding-right:1em">{html.escape(str(k))}</th>'
        f'<td style="text-align:left">{html.escape(_fmt(v))}</td></tr>'
        for k, v in rows
    )
    note = (
        f'<div style="margin:2px 0 4px;font-style:italic">Method: {html.escape(method)}</div>'
        if method
        else ""
    )
    return f"<div><b>{html.escape(title)}</b>{note}<table>{body}</table></div>"
