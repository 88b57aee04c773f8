"""Config helpers shared by layers that take Keras objects as arguments."""

from __future__ import annotations

import keras


def serialize(value):
    """Returns strings and `None` as given (so configs echo what users passed), else a dict."""
    if value is None or isinstance(value, str | dict):
        return value
    return keras.saving.serialize_keras_object(value)
