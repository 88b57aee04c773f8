"""Foundations experiments: `zoo experiments depth-vs-width | information-plane`.

- `depth_vs_width`: equal-parameter ReLU MLPs of depth 1-6 on smooth targets and Telgarsky's
  sawtooth (`targets`, `parameter_budget`, `parallel_mlp`, `sawtooth_construction`).
- `information_plane`: I(X;T), I(T;Y) per layer over training for tanh and ReLU networks
  (`mutual_information`: the binning and KDE estimators).
- `figures`: the PNGs.

Modules are imported on use (`from zoo.experiments.depth_vs_width import run_depth_vs_width`),
so that `zoo` itself does not load them.
"""
