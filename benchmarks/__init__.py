"""Performance and learning-quality experiments; results and commands are in BENCHMARKS.md.

Each module `benchmarks/bench_<topic>.py` has a `main()` and runs alone with
`python -m benchmarks.bench_<topic>`; `python -m benchmarks` (and `make bench`) runs them all.
"""
