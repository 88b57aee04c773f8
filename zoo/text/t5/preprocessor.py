"""T5's preprocessor: SentencePiece pieces, `</s>` appended, padded with `<pad>`, in the graph."""

from __future__ import annotations

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from layers.validation import check_int_at_least, check_non_negative_int
from zoo.models import Preprocessor
from zoo.text.sentencepiece import SentencePieceTokenizer


@keras.saving.register_keras_serializable(package="keras_zoo")
class T5Preprocessor(Preprocessor):
    """Turns strings into `{"encoder_token_ids", "encoder_padding_mask"}` for T5.

    Each text is tokenized by the SentencePiece model (the tokenizer ALBERT uses, here without
    lower-casing or accent stripping), truncated to `sequence_length - 1` pieces, followed by
    `</s>` and padded with `<pad>` to `sequence_length`, as Hugging Face's `T5Tokenizer` does.
    `detokenize` turns generated ids back into text. T5's sentinels `<extra_id_i>` are not
    pieces of the SentencePiece model: they are the ids after it, counted down from the last
    one (`sentinel_id(i)`), as in T5's vocabulary.

    Args:
        tokenizer: a `SentencePieceTokenizer` whose model holds `<pad>` and `</s>` (or its
            serialized config).
        sequence_length: length of every output row. Defaults to `512`.
        num_sentinels: sentinel ids after the SentencePiece model's pieces. Defaults to `100`
            (T5's `extra_ids`).
        **kwargs: `name` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    tokenizer = SentencePieceTokenizer("t5-small/spiece.model", lowercase=False,
                                       keep_accents=True)
    preprocessor = T5Preprocessor(tokenizer, sequence_length=64)
    inputs = preprocessor(tf.constant(["translate English to German: Hello"]))
    ```

    Reference:
        Raffel et al., "Exploring the Limits of Transfer Learning ...", JMLR 2020, section 2.2.
    """

    output_names = ("encoder_token_ids", "encoder_padding_mask")

    def __init__(
        self,
        tokenizer: SentencePieceTokenizer,
        sequence_length: int = 512,
        num_sentinels: int = 100,
        **kwargs,
    ):
        if isinstance(tokenizer, dict):
            tokenizer = keras.saving.deserialize_keras_object(tokenizer)
        if not isinstance(tokenizer, SentencePieceTokenizer):
            raise TypeError(
                f"`tokenizer` must be a SentencePieceTokenizer. Received: tokenizer={tokenizer!r}"
            )
        check_int_at_least("sequence_length", sequence_length, 2, "one piece and `</s>`")
        check_non_negative_int("num_sentinels", num_sentinels)
        kwargs.setdefault("dtype", "int32")
        super().__init__(**kwargs)
        self.tokenizer = tokenizer
        self.pad_id = tokenizer.token_to_id("<pad>")
        self.end_id = tokenizer.token_to_id("</s>")
        self.unknown_id = tokenizer.token_to_id("<unk>")

    @property
    def vocabulary_size(self) -> int:
        """SentencePiece pieces plus sentinels (a model's `vocabulary_size` may be larger)."""
        return self.tokenizer.vocabulary_size + self.num_sentinels

    def sentinel_id(self, index: int) -> int:
        """The id of `<extra_id_{index}>`."""
        if not 0 <= index < self.num_sentinels:
            raise ValueError(
                f"`index` must be in [0, {self.num_sentinels}). Received: index={index!r}"
            )
        return self.vocabulary_size - 1 - index

    def tokenize(self, texts, truncate: bool = False) -> tf.RaggedTensor:
        """Pieces of each text followed by `</s>`, unpadded; with `truncate`, at most
        `sequence_length - 1` pieces before the `</s>`."""
        pieces = self.tokenizer(tf.reshape(tf.convert_to_tensor(texts), [-1]))
        if truncate:
            pieces = pieces[:, : self.sequence_length - 1]
        end = tf.fill([pieces.nrows(), 1], tf.constant(self.end_id, pieces.dtype))
        return tf.concat([pieces, end], axis=1)

    def call(self, inputs):
        token_ids, mask = tf_text.pad_model_inputs(
            self.tokenize(inputs, truncate=True), self.sequence_length, pad_value=self.pad_id
        )
        return {
            "encoder_token_ids": tf.cast(token_ids, "int32"),
            "encoder_padding_mask": tf.cast(mask, "int32"),
        }

    def generation_inputs(self, inputs) -> dict[str, tf.Tensor]:
        """Encoder inputs for generation: as `call`, but padded only to the longest text,
        rounded up to a power of two (at least 8, at most `sequence_length`).

        The encoder and the cross-attention then cost what the texts need, not
        `sequence_length` positions, and an XLA-compiled generation loop is compiled once per
        length bucket. Padding is masked, so the generated ids are the same as from `call`'s.

        Example:

        ```python
        preprocessor.generation_inputs(["translate English to German: Hi"])
        # {"encoder_token_ids": [1, 8], "encoder_padding_mask": [1, 8]}
        ```
        """
        pieces = self.tokenize(inputs, truncate=True)
        lengths = tf.cast(pieces.row_lengths(), tf.int32)
        longest = tf.reduce_max(tf.concat([lengths, [1]], axis=0))
        buckets = tf.constant(self.length_buckets(), tf.int32)
        length = tf.gather(buckets, tf.searchsorted(buckets, longest[None]))[0]
        token_ids = pieces.to_tensor(default_value=self.pad_id)
        padding = [[0, 0], [0, length - tf.shape(token_ids)[1]]]
        token_ids = tf.pad(token_ids, padding, constant_values=self.pad_id)
        return {
            "encoder_token_ids": tf.cast(token_ids, "int32"),
            "encoder_padding_mask": tf.sequence_mask(lengths, length, dtype="int32"),
        }

    def length_buckets(self) -> list[int]:
        """The padded lengths `generation_inputs` uses: powers of two from 8, then
        `sequence_length`."""
        buckets = [8]
        while buckets[-1] < self.sequence_length:
            buckets.append(buckets[-1] * 2)
        return [min(b, self.sequence_length) for b in buckets]

    def detokenize(self, token_ids) -> tf.Tensor:
        """Text of generated ids `(batch, length)`: up to the first `</s>`, without `<pad>`,
        `<unk>`, sentinels or other ids outside the SentencePiece model (as Hugging Face's
        `decode(..., skip_special_tokens=True)`)."""
        token_ids = tf.cast(token_ids, tf.int32)
        ended = tf.cumsum(tf.cast(token_ids == self.end_id, tf.int32), axis=1) > 0
        keep = (
            ~ended
            & (token_ids != self.pad_id)
            & (token_ids != self.unknown_id)
            & (token_ids >= 0)
            & (token_ids < self.tokenizer.vocabulary_size)
        )
        return self.tokenizer.detokenize(tf.ragged.boolean_mask(token_ids, keep))

    def compute_output_spec(self, inputs):
        shape = (None, self.sequence_length)
        return {name: keras.KerasTensor(shape, dtype="int32") for name in self.output_names}
