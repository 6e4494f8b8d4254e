"""Figure saving shared by the research modules (matplotlib on the non-interactive Agg backend)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["plt", "save_figure"]


def save_figure(fig, out_dir: str | Path, name: str, dpi: int = 100) -> Path:
    """tight_layout + savefig to ``out_dir/name`` (creating out_dir); closes the figure; returns the path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
