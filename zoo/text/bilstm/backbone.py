"""The BiLSTM backbone: token embeddings and stacked bidirectional LSTMs (Lample et al. 2016)."""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_positive_int, check_rate
from zoo.models import Backbone


@keras.saving.register_keras_serializable(package="keras_zoo")
class BiLSTMBackbone(Backbone):
    """Token embeddings, then `num_layers` bidirectional LSTMs over the unpadded tokens.

    Each LSTM layer reads the sequence both ways (`hidden_dim` units each way) and returns the
    two states of every token side by side; padding (the `padding_mask` zeros, at the end of
    each row) is skipped, so a token's features depend only on the real tokens. Dropout
    follows the embeddings and every LSTM layer but the last (the tagger's head has its own).

    Args:
        vocabulary_size: number of token ids.
        embedding_dim: width of the token embeddings. Defaults to `100`.
        hidden_dim: LSTM units per direction. Defaults to `100`.
        num_layers: number of bidirectional LSTM layers. Defaults to `1`.
        dropout: dropout rate after the embeddings and between LSTM layers. Defaults to `0.0`.
        **kwargs: `name`, `dtype` (a dtype policy; defaults to the global policy) and the other
            `keras.Model` arguments.

    Inputs: a dict of int32 tensors shaped `(batch, length)`: `"token_ids"` and
    `"padding_mask"` (1 for real tokens, 0 for padding).

    Outputs: a dict with `"sequence_output"` `(batch, length, 2 * hidden_dim)`.

    Example:

    ```python
    backbone = BiLSTMBackbone(vocabulary_size=1000, embedding_dim=64, hidden_dim=64)
    features = backbone({"token_ids": ids, "padding_mask": mask})["sequence_output"]
    ```

    Reference:
        Lample et al., "Neural Architectures for Named Entity Recognition", NAACL 2016;
        Hochreiter and Schmidhuber, "Long Short-Term Memory", Neural Computation 1997.
    """

    def __init__(
        self,
        vocabulary_size: int,
        embedding_dim: int = 100,
        hidden_dim: int = 100,
        num_layers: int = 1,
        dropout: float = 0.0,
        **kwargs,
    ):
        for name in ("vocabulary_size", "embedding_dim", "hidden_dim", "num_layers"):
            check_positive_int(name, self.constructor_arguments[name])
        check_rate("dropout", dropout)
        dtype = self.dtype_policy_from(kwargs)
        inputs = {
            name: keras.Input(shape=(None,), dtype="int32", name=name)
            for name in ("token_ids", "padding_mask")
        }
        mask = ops.cast(inputs["padding_mask"], "bool")
        x = keras.layers.Embedding(
            vocabulary_size, embedding_dim, dtype=dtype, name="token_embedding"
        )(inputs["token_ids"])
        x = keras.layers.Dropout(dropout, dtype=dtype, name="embedding_dropout")(x)
        for i in range(num_layers):
            lstm = keras.layers.LSTM(hidden_dim, return_sequences=True, dtype=dtype)
            x = keras.layers.Bidirectional(lstm, dtype=dtype, name=f"bilstm_{i}")(x, mask=mask)
            if i < num_layers - 1:
                x = keras.layers.Dropout(dropout, dtype=dtype, name=f"bilstm_{i}_dropout")(x)
        super().__init__(inputs=inputs, outputs={"sequence_output": x}, dtype=dtype, **kwargs)
