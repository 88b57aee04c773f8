"""Classify and Regress with TF Serving's signature checks, for any way of running a signature.

Each method is a request half (`*_call`: the signature, its inputs and the outputs wanted) and
a result half (`*_result`: checks the outputs); the REST front end awaits
`SignatureRunner.run` between them, the gRPC one calls `SignatureRunner.run_sync`.
"""

from __future__ import annotations

import numpy as np

from serving.errors import invalid_argument
from serving.server.models import Servable
from serving.server.signature import Signature
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


Call = tuple[Signature, dict[str, np.ndarray], list[str]]


def classify_call(servable: Servable, signature_name: str | None, examples: list[bytes]) -> Call:
    """What to run for a Classify request on serialised examples: `(signature, inputs, outputs)`."""
    signature = _signature(servable, signature_name, CLASSIFY_METHOD, "classification")
    wanted = [name for name in ("classes", "scores") if name in signature.outputs]
    if not wanted:
        raise invalid_argument(
            "Expected classification signature outputs to contain 'classes' and/or 'scores'. "
            f"Has: {signature.outputs}"
        )
    return signature, {"inputs": np.asarray(examples, dtype=object)}, wanted


def classify_result(
    outputs: dict[str, np.ndarray], count: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """`(classes, scores)` of a classification signature's outputs for `count` examples."""
    classes, scores = outputs.get("classes"), outputs.get("scores")
    for value in (classes, scores):
        if value is not None and (value.ndim != 2 or value.shape[0] != count):
            raise invalid_argument(
                f"Classification outputs must have shape [batch, k]. Got shape={value.shape}"
            )
    return classes, scores


def regress_call(servable: Servable, signature_name: str | None, examples: list[bytes]) -> Call:
    """What to run for a Regress request on serialised examples: `(signature, inputs, outputs)`."""
    signature = _signature(servable, signature_name, REGRESS_METHOD, "regression")
    if "outputs" not in signature.outputs:
        raise invalid_argument(
            f"Expected regression signature output 'outputs'. Has: {signature.outputs}"
        )
    return signature, {"inputs": np.asarray(examples, dtype=object)}, ["outputs"]


def regress_result(outputs: dict[str, np.ndarray], count: int) -> np.ndarray:
    """One float per example from a regression signature's outputs."""
    values = outputs["outputs"]
    if values.size != count:
        raise invalid_argument(
            f"Regression output must have one value per example. Got shape={values.shape}"
        )
    return values.reshape(-1)
