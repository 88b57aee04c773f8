"""`FairnessAudit`: the fairness audit of the validation data after every epoch, in `logs`."""

from __future__ import annotations

import keras
import numpy as np

from layers.validation import check_positive_int, check_unit_interval
from zoo.fairness.audit import audit
from zoo.fairness.inputs import binary_labels, sensitive_array


class FairnessAudit(keras.callbacks.Callback):
    """Audits the model on held-out data at the end of every `frequency`-th epoch.

    Adds to the epoch's `logs` (so `History`, `CSVLogger`, TensorBoard and MLflow see them)
    `{prefix}demographic_parity_difference`, `{prefix}equalized_odds_difference`, and per group
    `{prefix}accuracy_group_{g}` and `{prefix}selection_rate_group_{g}`; keeps each epoch's full
    `zoo.fairness.audit` result in `audits`.

    Args:
        validation_data: `(x, y, sensitive)`: inputs, 0/1 labels and the sensitive attribute.
        threshold: decision threshold of the probabilities. Defaults to `0.5`.
        frequency: audit every this many epochs. Defaults to `1`.
        prefix: prefix of the log names. Defaults to `"val_"`.
        batch_size: prediction batch size. Defaults to `256`.

    Example:

    ```python
    audit_callback = FairnessAudit((x_val, y_val, group_val))
    history = model.fit(x, y, epochs=5, callbacks=[audit_callback])
    history.history["val_demographic_parity_difference"]
    ```
    """

    def __init__(
        self,
        validation_data,
        threshold: float = 0.5,
        frequency: int = 1,
        prefix: str = "val_",
        batch_size: int = 256,
    ):
        super().__init__()
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 3:
            raise ValueError(
                "`validation_data` must be `(x, y, sensitive)`. "
                f"Received: validation_data of type {type(validation_data).__name__}"
            )
        x, y, sensitive = validation_data
        self.y = binary_labels(y)
        self.sensitive = sensitive_array(sensitive, n=len(self.y))
        self.x = x
        self.threshold = check_unit_interval(
            "threshold", threshold, include_low=False, include_high=True
        )
        self.frequency = check_positive_int("frequency", frequency)
        self.prefix = prefix
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.audits: list[dict] = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.frequency:
            return
        predictions = self.model.predict(self.x, batch_size=self.batch_size, verbose=0)
        result = audit(self.y, np.asarray(predictions), self.sensitive, self.threshold)
        result["epoch"] = epoch
        self.audits.append(result)
        if logs is None:
            return
        for name in ("demographic_parity_difference", "equalized_odds_difference"):
            logs[f"{self.prefix}{name}"] = result[name]
        for group, metrics in result["by_group"].items():
            for name in ("accuracy", "selection_rate"):
                logs[f"{self.prefix}{name}_group_{group}"] = metrics[name]
