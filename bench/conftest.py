"""After a pytest-benchmark run, prints each benchmark's median time as a ratio to its group's baseline."""
from __future__ import annotations

# group prefix -> substring of the baseline benchmark's name in that group
BASELINES = {"wgm-fwd-bwd": "[conv", "critic-step": "[l2]"}


def pytest_terminal_summary(terminalreporter, config):
    bs = getattr(config, "_benchmarksession", None)
    if bs is None:
        return
    groups: dict[str, list] = {}
    for b in bs.benchmarks:
        if b.stats is not None:
            groups.setdefault(b.group or "", []).append(b)
    lines = []
    for group, items in sorted(groups.items()):
        tag = next((t for prefix, t in BASELINES.items() if group.startswith(prefix)), None)
        base = [b for b in items if tag and tag in b.name]
        if not base:
            continue
        t0 = base[0].stats.median
        for b in sorted(items, key=lambda b: b.stats.median):
            lines.append(f"{group:<24} {b.name:<34} median {b.stats.median * 1e3:9.2f} ms  "
                         f"baseline/this = {t0 / b.stats.median:6.2f}x")
    if lines:
        terminalreporter.write_sep("-", "ratios to each group's baseline (conv reference; L2 penalty)")
        for line in lines:
            terminalreporter.write_line(line)
