"""RoBERTa's preprocessor: `<s> a </s></s> b </s>`, padded with `<pad>`, in the graph."""

from __future__ import annotations

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from layers.validation import check_int_at_least
from zoo.text.byte_pair import BytePairTokenizer
from zoo.text.packing import SegmentPacker, segments_of, truncate_longest_first


@keras.saving.register_keras_serializable(package="keras_zoo")
class RobertaPreprocessor(SegmentPacker):
    """Packs one or two text segments into RoBERTa's `{"token_ids", "padding_mask"}`.

    Each input is tokenized with a `BytePairTokenizer`; pairs are truncated like Hugging Face's
    `longest_first` so that `<s> a </s>` or `<s> a </s></s> b </s>` fits in `sequence_length`;
    the result is padded with `<pad>` (id 1 in RoBERTa's vocabulary) to exactly
    `sequence_length`. RoBERTa has no segment ids. Runs in the graph, so a SavedModel with it
    takes raw strings.

    Args:
        tokenizer: a `BytePairTokenizer` (or its serialized config) whose vocabulary holds
            `<s>`, `</s>` and `<pad>`.
        sequence_length: length of every output row. Defaults to `128`.
        **kwargs: `name` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a string tensor `(batch,)`, or a tuple of two for sentence pairs.

    Example:

    ```python
    tokenizer = BytePairTokenizer("vocab.json", "merges.txt")
    preprocessor = RobertaPreprocessor(tokenizer, sequence_length=64)
    inputs = preprocessor(tf.constant(["the first text", "another"]))
    logits = classifier(inputs)
    ```

    Reference:
        Liu et al., "RoBERTa: A Robustly Optimized BERT Pretraining Approach", 2019.
    """

    tokenizer_type = BytePairTokenizer
    special_tokens = ("<s>", "</s>", "<pad>")
    minimum_length = 2
    output_names = ("token_ids", "padding_mask")

    def call(self, inputs):
        pieces = [self.tokenizer(s) for s in segments_of(inputs, "RobertaPreprocessor")]
        if len(pieces) == 2:
            check_int_at_least(
                "sequence_length", self.sequence_length, 4, "pairs: <s> a </s></s> b </s>"
            )
        budget = self.sequence_length - (2 if len(pieces) == 1 else 4)
        pieces = truncate_longest_first(pieces, budget)
        ones = tf.ones_like(pieces[0].row_lengths(), tf.int32)[:, None]
        start = tf.RaggedTensor.from_tensor(ones * self.start_id)
        end = tf.RaggedTensor.from_tensor(ones * self.end_id)
        parts = [start, pieces[0], end]
        if len(pieces) == 2:
            parts += [end, pieces[1], end]
        ids = tf.concat(parts, axis=1)
        token_ids, mask = tf_text.pad_model_inputs(ids, self.sequence_length, pad_value=self.pad_id)
        return {"token_ids": tf.cast(token_ids, "int32"), "padding_mask": tf.cast(mask, "int32")}
