"""Experiment tracking and reproducibility: MLflow, dataset versions, energy and CO2-eq.

- `MLflowCallback`: a Keras `fit` tracked in MLflow (parameters, per-epoch metrics, the run
  record, the training curve, the `.keras` model and the TF Serving SavedModel as artifacts, a
  registered model version, `FAILED`/`KILLED` status), written locally too.
- `CarbonCallback`: energy (kWh) and CO2-eq of a `fit`, with codecarbon's offline tracker.
- `dataset_fingerprint` / `diff_datasets`: content hashes of TFRecord datasets and what differs.

MLflow is imported only when a run starts (it takes seconds).

Example:

```python
from zoo.tracking import CarbonCallback, MLflowCallback, dataset_fingerprint

carbon = CarbonCallback(country_iso_code="DEU")
tracking = MLflowCallback("sqlite:///mlflow.db", carbon=carbon, model_name="mlp",
                          datasets={"train": ("data/train", dataset_fingerprint("data/train"))})
with tracking:
    model.fit(dataset, epochs=5, callbacks=[carbon, tracking])
```
"""

from zoo.tracking.carbon import DEFAULT_COUNTRY, CarbonCallback, check_country
from zoo.tracking.dataset_diff import DatasetDiff, diff_datasets, format_diff
from zoo.tracking.fingerprint import dataset_fingerprint
from zoo.tracking.mlflow_callback import FAILED, FINISHED, KILLED, MLflowCallback
from zoo.tracking.record import merge_into_record
from zoo.tracking.uri import (
    TrackingUnavailableWarning,
    parse_track_option,
    resolve_tracking_uri,
)

__all__ = [
    "DEFAULT_COUNTRY",
    "FAILED",
    "FINISHED",
    "KILLED",
    "CarbonCallback",
    "DatasetDiff",
    "MLflowCallback",
    "TrackingUnavailableWarning",
    "check_country",
    "dataset_fingerprint",
    "diff_datasets",
    "format_diff",
    "merge_into_record",
    "parse_track_option",
    "resolve_tracking_uri",
]
