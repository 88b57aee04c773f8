"""The base of the zoo's preprocessors: raw inputs to model inputs, inside the graph."""

from __future__ import annotations

import keras

from zoo.models.arguments import ConstructorConfig


class Preprocessor(ConstructorConfig, keras.layers.Layer):
    """A layer that turns raw inputs (strings, images) into a model's inputs, in TensorFlow ops.

    Everything runs in the graph (tensorflow-text tokenizers, `tf.image`), so a preprocessor
    maps a `tf.data` pipeline and exports inside a SavedModel: `serving.export` puts it in
    front of a task so that TF Serving takes raw strings. It holds no trainable weights. Its
    config is its constructor's arguments (as for `Backbone` and `Task`), Keras objects among
    them (a tokenizer) nested with `keras.saving.serialize_keras_object`; every explicit
    argument is also an attribute unless the class already has one of that name.

    Subclasses name the model inputs they produce in `output_names`.

    Example:

    ```python
    preprocessor = BertPreprocessor(tokenizer, sequence_length=128)
    features = preprocessor(tf.constant(["a sentence", "another one"]))
    dataset = tf.data.Dataset.from_tensor_slices(texts).batch(32).map(preprocessor)
    ```
    """

    output_names: tuple[str, ...] = ()

    def __init__(self, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        for name, value in self._constructor_arguments.items():
            if not hasattr(type(self), name) and name not in self.__dict__:
                setattr(self, name, value)
