"""Tables (mean ± std over seeds, thesis numbers side by side) and figure saving for ``thesis.diva``."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..plotting import plt, save_figure

__all__ = ["mean_std", "pct", "format_table", "save_figure", "band", "plt", "finish", "low_data_note"]


def mean_std(values: Sequence[float], scale: float = 1.0, digits: int = 2, signed: bool = False) -> str:
    """``"m ± s"`` of ``scale * values`` (sample std, ddof=1, over seeds)."""
    v = scale * np.asarray(values, dtype=float)
    m = float(v.mean()) if v.size else float("nan")
    s = float(v.std(ddof=1)) if v.size > 1 else 0.0
    fmt = f"{{:+.{digits}f}}" if signed else f"{{:.{digits}f}}"
    return f"{fmt.format(m)} ± {s:.{digits}f}"


def pct(values: Sequence[float], signed: bool = False) -> str:
    """Error rates in [0, 1] as percent ``m ± s``."""
    return mean_std(values, scale=100.0, digits=2, signed=signed)


def format_table(header: Sequence[str], rows: Sequence[Sequence], title: str | None = None,
                 note: str | None = None) -> str:
    """Fixed-width text table; cells are str()-ed; a ``None`` row prints a separator."""
    cells = [[str(c) for c in r] if r is not None else None for r in rows]
    widths = [len(h) for h in header]
    for r in cells:
        if r is not None:
            widths = [max(w, len(c)) for w, c in zip(widths, r)]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths)))
    sep = "-" * (sum(widths) + 2 * (len(widths) - 1))
    out = []
    if title:
        out.append(title)
    out += [line(list(header)), sep]
    out += [sep if r is None else line(r) for r in cells]
    if note:
        out.append(note)
    return "\n".join(out)


def band(ax, x, curves: np.ndarray, label: str, color=None, **kw) -> None:
    """Mean line with a ±1 std band of ``curves`` (seeds, len(x))."""
    curves = np.asarray(curves, dtype=float)
    m, s = curves.mean(0), curves.std(0)
    line, = ax.plot(x, m, label=label, color=color, **kw)
    ax.fill_between(x, m - s, m + s, color=line.get_color(), alpha=0.2, lw=0)


def finish(res: dict, table, figure, out_dir, verbose: bool) -> dict:
    """Attach the printed table and the figure path (None without out_dir) to an experiment's results."""
    res["table"] = table(res)
    res["figure"] = figure(res, out_dir) if out_dir else None
    if verbose:
        print(res["table"])
    return res


def low_data_note(res: dict) -> str:
    """Title suffix naming the seed count of the low-data rows '<ds>@k' when it differs from the others."""
    extra = {len(v) for v in res.get("row_seeds", {}).values() if len(v) != len(res["seeds"])}
    return "; rows '@k' over " + "/".join(str(n) for n in sorted(extra)) + " seeds" if extra else ""
