"""CLI: ``python -m thesis.diva {reweight,extend,outliers,augment,overfit,all} [options]``.

DIVA experiments of thesis Chapter 2 (Sections 2.3.4-2.4, Tables 2.1-2.2, Figs. 2.3-2.6) on fixed features
of bundled data (see ``thesis.diva.extractors``; nothing downloads). With the quick defaults (the default)
all five take about 30 s on 2 CPU cores once the features are cached; the first run also trains the two
small MNIST CNN extractors once per seed (about a minute for 3 seeds). ``--full`` adds data sets, splits,
lambda values and steps. Every number is mean ± std over ``--seeds`` seeds; tables print the thesis's
numbers alongside (different data sets: ResNet-34 features of fine-grained image sets there). Figures go
to ``--out`` (default ``outputs/diva``).
"""
from __future__ import annotations

import argparse
import inspect
import time

import torch

from .experiments import EXPERIMENTS, FULL, get_experiment


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m thesis.diva", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", choices=[*EXPERIMENTS, "all"])
    p.add_argument("--seeds", type=int, default=3, help="number of seeds 0..N-1 (default %(default)s, >= 3 "
                                                        "for the reported mean ± std)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="full", action="store_false", help="quick defaults (default)")
    mode.add_argument("--full", dest="full", action="store_true", help="more data sets / splits / steps")
    p.set_defaults(full=False)
    p.add_argument("--out", default="outputs/diva", help="figure directory (default %(default)s)")
    p.add_argument("--datasets", type=lambda s: tuple(x for x in s.split(",") if x),
                   help="comma-separated feature sets (see thesis.diva.available())")
    p.add_argument("--steps", type=int, help="reweighting steps (reweight, augment, overfit) / extension "
                                             "steps (extend)")
    p.add_argument("--lr", type=float, help="DIVA step size eta (reweight, augment)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.seeds < 3:
        print(f"note: --seeds {a.seeds} < 3: the std over seeds is not meaningful")
    names = list(EXPERIMENTS) if a.name == "all" else [a.name]
    t_all = time.perf_counter()
    for name in names:
        fn = get_experiment(name)
        accepted = inspect.signature(fn).parameters
        kw = dict(FULL[name]) if a.full else {}
        if a.datasets:
            kw["datasets"] = a.datasets
        if a.steps is not None:
            kw["n_steps" if name == "extend" else "steps"] = a.steps
        if a.lr is not None:
            kw["lr"] = a.lr
        kw = {k: v for k, v in kw.items() if k in accepted}
        print(f"== {name} ==")
        t0 = time.perf_counter()
        res = fn(seeds=a.seeds, out_dir=a.out, progress=not a.no_progress, verbose=True, **kw)
        print(f"[{name}] figure: {res.get('figure')}  ({time.perf_counter() - t0:.1f} s)\n")
    if len(names) > 1:
        print(f"[all] {time.perf_counter() - t_all:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
