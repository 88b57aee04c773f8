"""shap's summary plot of `zoo.explain.shap_values` output, written as a PNG (no display needed)."""

from __future__ import annotations

import os

import numpy as np

from layers.validation import check_int_in_range, check_positive_int
from zoo.explain.shap_explainers import import_shap


def shap_summary_plot(
    values,
    inputs,
    path: str,
    output_index: int | None = None,
    feature_names=None,
    max_display: int = 20,
) -> str:
    """Saves shap's summary plot of `shap_values(...)` as a PNG (matplotlib Agg, no display).

    Args:
        values: `[B, ...features, K]` from `shap_values`.
        inputs: the explained examples `[B, ...features]` (they colour the dots).
        path: PNG file to write; parent directories are created.
        output_index: the output whose values to plot as a beeswarm (feature value against SHAP
            value, one dot per example); `None` plots the mean |SHAP value| of every output as
            stacked bars (a beeswarm when `K == 1`). Defaults to `None`.
        feature_names: names of the flattened features. Defaults to `None` ("Feature i").
        max_display: how many features to show, most important first. Defaults to `20`.

    Returns:
        `path`.

    Example:

    ```python
    values = zoo.explain.shap_values(model, x[:32], x[:100], method="deep")
    shap_summary_plot(values, x[:32], "artifacts/shap_summary.png")
    ```
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shap = import_shap()

    values = np.asarray(values)
    inputs = np.asarray(inputs)
    if values.shape[:-1] != inputs.shape:
        raise ValueError(
            "`values` must have shape [*inputs.shape, outputs]. "
            f"Received: values.shape={values.shape}, inputs.shape={inputs.shape}"
        )
    check_positive_int("max_display", max_display)
    num_outputs = values.shape[-1]
    if output_index is not None:
        check_int_in_range("output_index", output_index, 0, num_outputs, include_high=False)
    flat_values = values.reshape(len(inputs), -1, num_outputs)
    flat_inputs = inputs.reshape(len(inputs), -1)
    plt.figure()  # shap draws on the current figure: never on one the caller left open
    if output_index is None and num_outputs > 1:
        per_output = [flat_values[..., k] for k in range(num_outputs)]
        shap.summary_plot(
            per_output,
            flat_inputs,
            feature_names=feature_names,
            plot_type="bar",
            max_display=max_display,
            show=False,
            rng=np.random.default_rng(0),
        )
    else:
        shap.summary_plot(
            flat_values[..., output_index or 0],
            flat_inputs,
            feature_names=feature_names,
            max_display=max_display,
            show=False,
            rng=np.random.default_rng(0),
        )
    figure = plt.gcf()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return path
