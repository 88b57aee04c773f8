"""One loaded signature: input validation and execution, shared by the REST and gRPC front ends."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from serving.errors import ServingError, invalid_argument


@dataclasses.dataclass
class Signature:
    """A signature of a loaded version.

    Attributes:
        name: the signature key, e.g. `"serving_default"`.
        method_name: `tensorflow/serving/predict`, `.../classify` or `.../regress`.
        inputs: input name -> `tf.TensorSpec`.
        outputs: the output names, sorted.
        function: the loaded concrete function (called with keyword tensors).
        owner: the loaded SavedModel object, kept alive (with its variables) as long as the
            signature is: a batch in flight keeps its version usable after it is unloaded.
    """

    name: str
    method_name: str
    inputs: dict[str, tf.TensorSpec]
    outputs: list[str]
    function: Any
    owner: Any = None

    def _convert(self, name: str, value: Any) -> np.ndarray:
        spec = self.inputs[name]
        dtype = spec.dtype
        if isinstance(value, tf.Tensor):
            value = value.numpy()
        try:
            if dtype == tf.string:
                array = np.asarray(value, dtype=object)
                flat = array.reshape(-1)
                if not all(isinstance(v, (bytes, str)) for v in flat):
                    raise ValueError("expected strings")
                array = (
                    np.vectorize(
                        lambda v: v.encode("utf-8") if isinstance(v, str) else v, otypes=[object]
                    )(array)
                    if flat.size
                    else array
                )
            else:
                raw = np.asarray(value)
                if raw.dtype == object or raw.dtype.kind in ("U", "S"):
                    raise ValueError("expected numbers")
                if dtype.is_integer and raw.dtype.kind == "f":
                    raise ValueError("expected integers, got floating-point values")
                if dtype == tf.bool and raw.dtype.kind != "b":
                    raise ValueError("expected booleans")
                array = raw.astype(dtype.as_numpy_dtype, copy=False)
        except (ValueError, TypeError) as e:
            raise invalid_argument(
                f"Input {name!r} of signature {self.name!r} must be a rectangular array of "
                f"{dtype.name} ({e}). Received: {_preview(value)}"
            ) from None
        if not spec.shape.is_compatible_with(array.shape):
            raise invalid_argument(
                f"Input {name!r} of signature {self.name!r} must have shape "
                f"{_shape_text(spec.shape)}. Received: shape={list(array.shape)}"
            )
        return array

    def prepare(
        self, inputs: Mapping[str, Any], output_filter: Iterable[str] | None = None
    ) -> tuple[dict[str, np.ndarray], list[str]]:
        """Checks `inputs` (name -> array-like) and `output_filter` against the signature.

        Returns:
            `(arrays, output_names)`: the inputs as arrays of the signature's dtypes, and the
            outputs to return (all of them when `output_filter` is empty).
        """
        missing = sorted(set(self.inputs) - set(inputs))
        unknown = sorted(set(inputs) - set(self.inputs))
        if missing or unknown:
            raise invalid_argument(
                f"Signature {self.name!r} takes inputs {sorted(self.inputs)}. "
                f"Received: missing={missing}, unexpected={unknown}"
            )
        wanted = list(output_filter or [])
        bad = sorted(set(wanted) - set(self.outputs))
        if bad:
            raise invalid_argument(
                f"output_filter names outputs {bad} that signature {self.name!r} does not have "
                f"(it has {self.outputs})."
            )
        arrays = {name: self._convert(name, value) for name, value in inputs.items()}
        batch_sizes = {a.shape[0] for a in arrays.values() if a.ndim > 0}
        if len(batch_sizes) > 1:
            raise invalid_argument(
                f"All inputs must have the same batch size. Received: batch sizes "
                f"{ {n: a.shape[0] for n, a in arrays.items()} }"
            )
        return arrays, wanted or list(self.outputs)

    def execute(self, arrays: Mapping[str, np.ndarray], output_names: list[str]):
        """Calls the signature on arrays `prepare` returned; output name -> array."""
        tensors = {
            name: tf.constant(a, dtype=self.inputs[name].dtype) for name, a in arrays.items()
        }
        try:
            results = self.function(**tensors)
        except tf.errors.OpError as e:
            raise ServingError(e.message, _code_name(e.error_code)) from None
        except (ValueError, TypeError) as e:
            raise invalid_argument(str(e)) from None
        return {name: results[name].numpy() for name in output_names}

    def run(
        self, inputs: Mapping[str, Any], output_filter: Iterable[str] | None = None
    ) -> dict[str, np.ndarray]:
        """Validates `inputs` (name -> array-like) and runs the signature in this thread."""
        return self.execute(*self.prepare(inputs, output_filter))


def _code_name(error_code: int) -> str:
    for name in dir(tf.errors):
        if name.isupper() and getattr(tf.errors, name) == error_code and name != "OK":
            return name
    return "UNKNOWN"


def _shape_text(shape: tf.TensorShape) -> str:
    if shape.rank is None:
        return "of any rank"
    return "[" + ", ".join("-1" if d is None else str(d) for d in shape.as_list()) + "]"


def _preview(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
