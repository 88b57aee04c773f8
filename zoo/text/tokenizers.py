"""In-graph tokenizers built on tensorflow-text, so an exported SavedModel takes raw strings."""

from __future__ import annotations

from collections.abc import Iterable

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from layers.validation import check_bool, check_int_at_least

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def _read_vocabulary(vocabulary) -> list[str]:
    if isinstance(vocabulary, str):
        with tf.io.gfile.GFile(vocabulary) as f:
            return [line.rstrip("\n") for line in f if line.rstrip("\n")]
    if isinstance(vocabulary, Iterable):
        return [str(token) for token in vocabulary]
    raise TypeError(
        "`vocabulary` must be a list of tokens or the path of a one-token-per-line file. "
        f"Received: vocabulary={vocabulary!r}"
    )


@keras.saving.register_keras_serializable(package="keras_zoo")
class WordPieceTokenizer(keras.layers.Layer):
    """BERT's tokenizer (basic splitting, then WordPiece) as a Keras layer on string tensors.

    Text is lower-cased and accent-stripped (when `lowercase`), split on whitespace and
    punctuation, then each word is split greedily into the longest vocabulary pieces, later
    pieces prefixed with `##`. Runs inside the graph (tensorflow-text's `BertTokenizer`), so it
    exports into SavedModels.

    Args:
        vocabulary: the tokens, a list or the path of a one-token-per-line `vocab.txt`. Must
            hold `[PAD]`, `[UNK]`, `[CLS]`, `[SEP]` and `[MASK]`.
        lowercase: lower-case and strip accents first (uncased models). Defaults to `True`.
        **kwargs: `name` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a string tensor `(batch,)` or scalar.

    Returns a `tf.RaggedTensor` of int32 ids, `(batch, None)`.

    Example:

    ```python
    tokenizer = WordPieceTokenizer("vocab.txt")
    ids = tokenizer(tf.constant(["Hello world!"]))
    text = tokenizer.detokenize(ids)
    ```

    Reference:
        Wu et al., "Google's Neural Machine Translation System", 2016 (WordPiece);
        Devlin et al., "BERT", NAACL 2019.
    """

    def __init__(self, vocabulary, lowercase: bool = True, **kwargs):
        kwargs.setdefault("dtype", "int32")
        super().__init__(**kwargs)
        self.vocabulary = _read_vocabulary(vocabulary)
        missing = [token for token in SPECIAL_TOKENS if token not in self.vocabulary]
        if missing:
            raise ValueError(
                f"`vocabulary` lacks the special token(s) {missing}. "
                f"Received: vocabulary of {len(self.vocabulary)} tokens"
            )
        self.lowercase = check_bool("lowercase", lowercase)
        self._tokenizer = tf_text.BertTokenizer(
            tf.lookup.StaticVocabularyTable(
                tf.lookup.KeyValueTensorInitializer(
                    self.vocabulary,
                    tf.range(len(self.vocabulary), dtype=tf.int64),
                ),
                num_oov_buckets=1,
            ),
            lower_case=lowercase,
            unknown_token="[UNK]",
            token_out_type=tf.int64,
        )
        self._inverse = tf.constant(self.vocabulary)

    @property
    def vocabulary_size(self) -> int:
        return len(self.vocabulary)

    def token_to_id(self, token: str) -> int:
        """The id of `token` (e.g. `"[CLS]"`)."""
        if token not in self.vocabulary:
            raise ValueError(f"Token not in the vocabulary. Received: token={token!r}")
        return self.vocabulary.index(token)

    def call(self, inputs):
        ids = self._tokenizer.tokenize(tf.convert_to_tensor(inputs))  # (batch, words, pieces)
        return tf.cast(ids.merge_dims(-2, -1), "int32")

    def detokenize(self, ids) -> tf.Tensor:
        """Joins the pieces of each row back into text (`##` pieces glued to the word before)."""
        ids = tf.convert_to_tensor(ids) if not isinstance(ids, tf.RaggedTensor) else ids
        tokens = tf.gather(self._inverse, ids)
        text = tf.strings.reduce_join(tokens, axis=-1, separator=" ")
        return tf.strings.regex_replace(text, " ##", "")

    def compute_output_spec(self, inputs):
        raise NotImplementedError("WordPieceTokenizer returns ragged tensors; call it eagerly.")

    def get_config(self):
        return {**super().get_config(), "vocabulary": self.vocabulary, "lowercase": self.lowercase}


def train_wordpiece_vocabulary(
    lines: Iterable[str], vocabulary_size: int, lowercase: bool = True
) -> list[str]:
    """Learns a WordPiece vocabulary from text with tensorflow-text's BERT vocabulary learner.

    Args:
        lines: the corpus, one string per sentence or document.
        vocabulary_size: the target size, special tokens included (a little smaller may come
            back when the corpus is small).
        lowercase: learn an uncased vocabulary. Defaults to `True`.

    Returns:
        The tokens: the special tokens first, then the learnt pieces.

    Example:

    ```python
    vocabulary = train_wordpiece_vocabulary(open("corpus.txt"), vocabulary_size=1000)
    tokenizer = WordPieceTokenizer(vocabulary)
    ```
    """
    from tensorflow_text.tools.wordpiece_vocab import bert_vocab_from_dataset

    check_int_at_least(
        "vocabulary_size",
        vocabulary_size,
        len(SPECIAL_TOKENS) + 1,
        f"the {len(SPECIAL_TOKENS)} special tokens and at least one piece",
    )
    dataset = tf.data.Dataset.from_tensor_slices(tf.constant(list(lines))).batch(256)
    return bert_vocab_from_dataset.bert_vocab_from_dataset(
        dataset,
        vocab_size=vocabulary_size,
        reserved_tokens=list(SPECIAL_TOKENS),
        bert_tokenizer_params={"lower_case": lowercase},
    )
