"""Runs every `benchmarks/bench_*.py` module in turn (`make bench`).

Modules that set `RUNS_IN_PEER_ENVIRONMENT = True` (the peer side of a comparison, such as
`bench_tfmot`, which needs tf_keras) are skipped: their comparison module calls them.
"""

import importlib
import pkgutil
import sys
import time

import benchmarks


def main(argv: list[str]) -> int:
    wanted = set(argv)
    names = sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_")
    )
    sys.argv = sys.argv[:1]  # each module's own flags take their defaults here
    for name in names:
        if wanted and name not in wanted:
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        if getattr(module, "RUNS_IN_PEER_ENVIRONMENT", False):
            print(f"== {name}: peer side, run by its comparison module", flush=True)
            continue
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        module.main()
        print(f"== {name} done in {time.perf_counter() - start:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
