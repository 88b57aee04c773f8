"""The TensorFlow Addons migration guide, one row per TFA symbol, made from the namespace itself.

`guide()` walks TFA's public names (`tests/fixtures/tfa/public_api.json`, written by TFA 0.23)
and, for each, gives where it lives now (the object `layers.addons` resolves it to: Keras's own
or keras-zoo's) and what differs from TFA. `docs/migrating-from-tfa.md` is its output; a test
keeps the two equal, so the guide cannot drift from the code.

Run `python -m layers.addons.migration` from a source checkout to rewrite the file after
changing the namespace.
"""

from __future__ import annotations

import json
import pathlib
import sys

import keras

from layers import addons

ROOT = pathlib.Path(__file__).resolve().parents[2]
PUBLIC_API = ROOT / "tests" / "fixtures" / "tfa" / "public_api.json"
GUIDE = ROOT / "docs" / "migrating-from-tfa.md"

SAME = "same arguments, defaults and numbers"

# TFA names with no Keras 3 home, and why (TFA-internal plumbing only).
ABSENT = {
    ("optimizers", "KerasLegacyOptimizer"): (
        "TFA's alias of Keras 2's legacy optimizer base class; Keras 3 has no legacy optimizers"
    ),
    ("text", "CrfDecodeForwardRnnCell"): (
        "the `tf.keras` RNN cell inside TFA's `crf_decode_forward`; the function itself is here"
    ),
}

# What differs from TFA, where something does (everything else: `SAME`).
DIFFERENCES = {
    ("activations", "rrelu"): "training draws from Keras's random stream (same distribution)",
    ("activations", "sparsemax"): "ours, not `keras.activations.sparsemax` (wrong in Keras 3.15)",
    ("callbacks", "TQDMProgressBar"): "handles unknown steps and serialises (TFA's crashed)",
    ("image", "connected_components"): "TF ops (union-find over runs), not a C++ kernel",
    ("image", "euclidean_dist_transform"): "TF ops, not a C++ kernel",
    ("image", "random_cutout"): "TFA's rules, not its random stream",
    ("image", "random_hsv_in_yiq"): "TFA's rules, not its random stream",
    ("image", "resampler"): "TF ops, not a C++ kernel; the gradient is TensorFlow's own",
    ("layers", "AdaptiveMaxPooling1D"): "ours: Keras 3.15's crashes on an output size of 1",
    ("layers", "AdaptiveMaxPooling2D"): "ours: Keras 3.15's crashes on an output size of 1",
    ("layers", "AdaptiveMaxPooling3D"): "ours: Keras 3.15's crashes on an output size of 1",
    ("layers", "CRF"): "weights named `kernel`/`bias` (same order and shapes)",
    ("layers", "GroupNormalization"): "Keras's own layer: TFA's defaults, weights and numbers",
    ("layers", "SpectralNormalization"): "takes TFA's weight order (`kernel, bias, u`)",
    ("layers", "StochasticDepth"): "`TFAStochasticDepth` (the project's is per example)",
    ("layers", "WeightNormalization"): "refuses recurrent layers (TFA only warned)",
    ("losses", "TripletHardLoss"): "0 for a batch without positive pairs (TFA: NaN)",
    ("losses", "TripletSemiHardLoss"): "0 for a batch without positive pairs (TFA: NaN)",
    ("losses", "triplet_hard_loss"): "0 for a batch without positive pairs (TFA: NaN)",
    ("losses", "triplet_semihard_loss"): "0 for a batch without positive pairs (TFA: NaN)",
    ("metrics", "PearsonsCorrelation"): "over the whole dataset (Keras's is a per-batch mean)",
    ("optimizers", "CyclicalLearningRate"): "`ScaledCyclicalLearningRate`; register `scale_fn`",
    ("optimizers", "SGDW"): "without momentum, also decays the rows of sparse gradients",
    ("optimizers", "SWA"): "`StochasticWeightAveraging` (`layers.callbacks.SWA`: the callback)",
    ("seq2seq", "AttentionWrapper"): "`alignment_history=True` refused under XLA (TFA fails)",
    ("seq2seq", "BasicDecoder"): "`initial_state` defaults to the cell's zero state",
    ("seq2seq", "BeamSearchDecoder"): "`initial_state` optional; scores stay float32",
    ("seq2seq", "SequenceLoss"): "without `sample_weight` every target weighs 1 (TFA crashed)",
    ("seq2seq", "gather_tree"): "TF ops, not a C++ kernel",
    ("text", "crf_log_likelihood"): "created transitions are named `transitions`",
    ("text", "parse_time"): "TF string ops, not a C++ kernel on absl",
    ("text", "skip_gram_sample"): "TFA's rules, not its random stream",
    ("text", "viterbi_decode"): "returns Python ints",
}


KERAS_NAMESPACES = ("activations", "callbacks", "layers", "losses", "metrics", "optimizers")


def _public_keras_path(value) -> str | None:
    """`keras.<namespace>.<name>` for one of Keras's own public objects, else None."""
    for namespace in KERAS_NAMESPACES:
        public = getattr(keras, namespace)
        for attribute in dir(public):
            if getattr(public, attribute) is value:
                return f"keras.{namespace}.{attribute}"
    return None


def home(module: str, name: str) -> str:
    """Where `tfa.<module>.<name>` lives now: the dotted path of the object it resolves to."""
    value = getattr(getattr(addons, module), name)
    if value.__module__.startswith("keras"):
        return _public_keras_path(value) or value.__module__
    qualified = getattr(value, "__qualname__", getattr(value, "__name__", name))
    return f"{value.__module__}.{qualified}"


def guide() -> str:
    """The migration guide's markdown: one table per TFA module, one row per symbol."""
    api = json.loads(PUBLIC_API.read_text())
    lines = [
        "# Migrating from TensorFlow Addons",
        "",
        "Change `import tensorflow_addons as tfa` to `from layers import addons as tfa`: every",
        "public name of TFA 0.23 below resolves to its Keras 3 home, with TFA's arguments and",
        "defaults, and gives TFA's numbers (replayed against fixtures written by TFA itself).",
        "Generated by `python -m layers.addons.migration`; a test keeps it in sync.",
    ]
    for module in (key for key in api if key != "tensorflow_addons"):
        lines += ["", f"## `tfa.{module}`", "", "| TFA | Keras 3 home | differs |", "|---|---|---|"]
        for name in api[module]:
            if (module, name) in ABSENT:
                row = f"| `{name}` | absent | {ABSENT[module, name]} |"
            else:
                difference = DIFFERENCES.get((module, name), SAME)
                row = f"| `{name}` | `{home(module, name)}` | {difference} |"
            lines.append(row)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    GUIDE.parent.mkdir(exist_ok=True)
    GUIDE.write_text(guide())
    print(f"wrote {GUIDE}", file=sys.stderr)
