"""An audit as a table (Markdown or CSV) and as a bar plot of the per-group metrics."""

from __future__ import annotations

import csv
import io

from layers.validation import check_choice

TABLE_FORMATS = ("markdown", "csv")
PLOTTED = (
    "accuracy",
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "mean_probability",
    "observed_rate",
)


def audit_rows(result: dict) -> tuple[list[str], list[list]]:
    """The header and rows of the per-group table of a `zoo.fairness.audit` result.

    One row per group and an `overall` row; columns: the group, then every metric.
    """
    metrics = list(result["overall"])
    rows = [[group, *(values[m] for m in metrics)] for group, values in result["by_group"].items()]
    rows.append(["overall", *(result["overall"][m] for m in metrics)])
    return ["group", *metrics], rows


def _cell(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def audit_table(result: dict, table_format: str = "markdown") -> str:
    """The audit as text: per-group metrics, then the two disparities.

    Args:
        result: a `zoo.fairness.audit` result.
        table_format: `"markdown"` or `"csv"`. Defaults to `"markdown"`.

    Returns:
        The table. In CSV, the disparities follow as rows `disparity,<name>,<value>`.

    Example:

    ```python
    print(audit_table(audit(y, model.predict(x), group)))
    ```
    """
    check_choice("table_format", table_format, TABLE_FORMATS)
    header, rows = audit_rows(result)
    disparities = [
        (name, result[name])
        for name in ("demographic_parity_difference", "equalized_odds_difference")
    ]
    if table_format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        writer.writerows([("disparity", name, value) for name, value in disparities])
        return out.getvalue()
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    lines.append("")
    lines += [f"- {name.replace('_', ' ')}: {value:.4f}" for name, value in disparities]
    return "\n".join(lines) + "\n"


def plot_audit(result: dict, path: str, title: str | None = None) -> str:
    """Writes a grouped bar chart of the per-group metrics to the PNG `path`.

    Args:
        result: a `zoo.fairness.audit` result.
        path: the PNG file written (folders created).
        title: defaults to the two disparities.

    Returns:
        `path`.

    Example:

    ```python
    plot_audit(audit(y, model.predict(x), group), "artifacts/fairness.png")
    ```
    """
    import numpy as np

    from zoo.plots import pyplot, save_figure

    plt = pyplot()

    metrics = [m for m in PLOTTED if m in result["overall"]]
    groups = list(result["by_group"])
    width = 0.8 / len(groups)
    figure, axes = plt.subplots(figsize=(1.6 * len(metrics) + 2, 4))
    for i, group in enumerate(groups):
        values = [result["by_group"][group][m] for m in metrics]
        axes.bar(np.arange(len(metrics)) + i * width, values, width, label=f"group {group}")
    axes.set_xticks(np.arange(len(metrics)) + 0.4 - width / 2)
    axes.set_xticklabels([m.replace("_", "\n") for m in metrics])
    axes.set_ylim(0, 1)
    axes.legend()
    axes.set_title(
        title
        or "demographic parity difference {:.3f}, equalized odds difference {:.3f}".format(
            result["demographic_parity_difference"], result["equalized_odds_difference"]
        )
    )
    return save_figure(figure, path)
