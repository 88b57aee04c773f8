"""Write, read, validate and inspect TFRecord datasets: one call each way, fast.

```python
import tfrecords

tfrecords.write({"image": images, "label": labels}, "data/train", num_shards=4)
dataset = tfrecords.read("data/train", batch_size=128, shuffle=True, label="label")
print(tfrecords.format_inspection(tfrecords.inspect("data/train")))
```
"""

from tfrecords.errors import CorruptRecordError, SchemaError, TFRecordError
from tfrecords.inspection import Inspection, format_inspection, inspect, validate
from tfrecords.reader import read
from tfrecords.schema import FeatureSpec, Schema
from tfrecords.writer import write

__all__ = [
    "CorruptRecordError",
    "FeatureSpec",
    "Inspection",
    "Schema",
    "SchemaError",
    "TFRecordError",
    "format_inspection",
    "inspect",
    "read",
    "validate",
    "write",
]
