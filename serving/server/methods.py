"""Classify and Regress on top of `Signature.run`, with TF Serving's signature checks."""

from __future__ import annotations

import numpy as np

from serving.errors import invalid_argument
from serving.server.models import Servable
from serving.signatures import CLASSIFY_METHOD, REGRESS_METHOD


def _signature(servable: Servable, signature_name: str | None, method: str, kind: str):
    signature = servable.signature(signature_name)
    if signature.method_name != method:
        raise invalid_argument(
            f"Expected {kind} signature method_name to be {method}. Was: {signature.method_name}"
        )
    if list(signature.inputs) != ["inputs"]:
        raise invalid_argument(
            f"Expected one input named 'inputs' in {kind} signature {signature.name!r}. "
            f"Has: {sorted(signature.inputs)}"
        )
    return signature


def classify(
    servable: Servable, signature_name: str | None, examples: list[bytes]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Runs a classification signature on serialised examples: `(classes, scores)`."""
    signature = _signature(servable, signature_name, CLASSIFY_METHOD, "classification")
    wanted = [name for name in ("classes", "scores") if name in signature.outputs]
    if not wanted:
        raise invalid_argument(
            "Expected classification signature outputs to contain 'classes' and/or 'scores'. "
            f"Has: {signature.outputs}"
        )
    outputs = signature.run({"inputs": np.asarray(examples, dtype=object)}, wanted)
    classes, scores = outputs.get("classes"), outputs.get("scores")
    for value in (classes, scores):
        if value is not None and (value.ndim != 2 or value.shape[0] != len(examples)):
            raise invalid_argument(
                f"Classification outputs must have shape [batch, k]. Got shape={value.shape}"
            )
    return classes, scores


def regress(servable: Servable, signature_name: str | None, examples: list[bytes]) -> np.ndarray:
    """Runs a regression signature on serialised examples: one float per example."""
    signature = _signature(servable, signature_name, REGRESS_METHOD, "regression")
    if "outputs" not in signature.outputs:
        raise invalid_argument(
            f"Expected regression signature output 'outputs'. Has: {signature.outputs}"
        )
    values = signature.run({"inputs": np.asarray(examples, dtype=object)}, ["outputs"])["outputs"]
    if values.size != len(examples):
        raise invalid_argument(
            f"Regression output must have one value per example. Got shape={values.shape}"
        )
    return values.reshape(-1)
