"""ALBERT's SentencePiece tokenizer as an in-graph Keras layer (tensorflow-text)."""

from __future__ import annotations

import base64
import uuid

import keras
import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text.python.ops import sentencepiece_tokenizer

from layers.validation import check_bool

# Every Unicode whitespace (Python's `str.split()` set), so runs collapse like Hugging Face's
# `WhitespaceSplit` before SentencePiece adds its own word-boundary marks.
_WHITESPACE = (
    r"[\s\x{0B}\x{1C}-\x{1F}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}"
    r"\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]+"
)


class _SharedModelResource(sentencepiece_tokenizer._SentencepieceModelResource):
    """The model resource under a shared name, so it outlives the kernel that made it.

    tensorflow-text's resource belongs to the kernel that created it, and eager kernels are
    dropped whenever the kernel cache is cleared (`tf.random.set_seed`, hence
    `keras.utils.set_random_seed`), after which every call fails with "Resource ... does not
    exist" (tensorflow-text's TODO b/318839908). The price: a shared resource stays in the
    resource manager for the life of the process, one parsed model per layer built.
    """

    def _create_resource(self):
        return sentencepiece_tokenizer.gen_sentencepiece_tokenizer.sentencepiece_op(
            model=self._model, shared_name=self._name
        )


def _read_model(model) -> bytes:
    if isinstance(model, bytes):
        return model
    if isinstance(model, str):
        with tf.io.gfile.GFile(model, "rb") as f:
            return f.read()
    raise TypeError(
        "`model` must be the serialized SentencePiece model (bytes) or the path of a "
        f"`spiece.model` file. Received: model={model!r}"
    )


@keras.saving.register_keras_serializable(package="keras_zoo")
class SentencePieceTokenizer(keras.layers.Layer):
    """ALBERT's tokenizer (a SentencePiece model) as a Keras layer on string tensors.

    Before the SentencePiece model (its own normalization, `nmt_nfkc` for ALBERT, then the
    unigram or BPE segmentation) the text is prepared as Hugging Face's `AlbertTokenizer` does:
    ``` `` ``` and `''` become `"`, accents are stripped (NFKD, then combining marks dropped)
    unless `keep_accents`, the text is lower-cased when `lowercase`, and every run of Unicode
    whitespace becomes one space. Runs inside the graph (tensorflow-text's
    `SentencepieceTokenizer`), so it exports into SavedModels; the model's bytes are kept in the
    config, so `.keras` files carry it.

    transformers 4's `remove_space` option (strip and collapse whitespace) is always on, as in
    transformers 5, which no longer offers it. Not reproduced: the slow (sentencepiece-backed)
    `AlbertTokenizer` of transformers 4 also split a trailing comma from a number (`"9,"` -> `"9"`,
    `","`); transformers 5's tokenizer, the reference here, does not. Special tokens written in the
    text (`"[MASK]"`) are tokenized as text, not matched as special tokens.

    Args:
        model: the serialized SentencePiece model (`bytes`) or the path of a `spiece.model`.
        lowercase: lower-case first (ALBERT's `do_lower_case`). Defaults to `True`.
        keep_accents: keep accents instead of stripping them (ALBERT's `keep_accents`).
            Defaults to `False`.
        **kwargs: `name` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a string tensor `(batch,)` or scalar.

    Returns a `tf.RaggedTensor` of int32 piece ids, `(batch, None)`.

    Example:

    ```python
    tokenizer = SentencePieceTokenizer("albert-base-v2/spiece.model")
    ids = tokenizer(tf.constant(["Hello world!"]))  # ▁hello ▁world !
    text = tokenizer.detokenize(ids)  # "hello world!"
    preprocessor = BertPreprocessor(tokenizer, sequence_length=64)  # ALBERT's packing
    ```

    Reference:
        Kudo and Richardson, "SentencePiece: A simple and language independent subword
        tokenizer and detokenizer for Neural Text Processing", EMNLP 2018;
        Lan et al., "ALBERT: A Lite BERT for Self-supervised Learning of Language
        Representations", ICLR 2020.
    """

    def __init__(self, model, lowercase: bool = True, keep_accents: bool = False, **kwargs):
        kwargs.setdefault("dtype", "int32")
        super().__init__(**kwargs)
        if isinstance(model, dict) and set(model) == {"base64"}:
            model = base64.b64decode(model["base64"])
        self.lowercase = check_bool("lowercase", lowercase)
        self.keep_accents = check_bool("keep_accents", keep_accents)
        self.model = _read_model(model)
        try:
            self._tokenizer = tf_text.SentencepieceTokenizer(model=self.model, out_type=tf.int32)
            self._tokenizer._model_resource = _SharedModelResource(
                self.model, f"keras_zoo_sentencepiece_{uuid.uuid4().hex}"
            )
            size = int(self._tokenizer.vocab_size())
        except (tf.errors.InvalidArgumentError, tf.errors.InternalError) as error:
            raise ValueError(
                f"`model` is not a SentencePiece model. Received: model of {len(self.model)} "
                f"bytes ({error.message})"
            ) from None
        self._pieces = [
            piece.decode("utf-8")
            for piece in self._tokenizer.id_to_string(tf.range(size)).numpy().tolist()
        ]

    @property
    def vocabulary_size(self) -> int:
        return len(self._pieces)

    def token_to_id(self, token: str) -> int:
        """The id of `token` (e.g. `"[CLS]"` or `"<pad>"`)."""
        if token not in self._pieces:
            raise ValueError(f"Token not in the vocabulary. Received: token={token!r}")
        return self._pieces.index(token)

    def _prepare(self, text):
        text = tf.strings.regex_replace(text, "``|''", '"')
        if not self.keep_accents:
            text = tf_text.normalize_utf8(text, "NFKD")
            text = tf.strings.regex_replace(text, r"\p{Mn}", "")
        if self.lowercase:
            text = tf.strings.lower(text, encoding="utf-8")
        return tf.strings.regex_replace(text, _WHITESPACE, " ")

    def call(self, inputs):
        return self._tokenizer.tokenize(self._prepare(tf.convert_to_tensor(inputs)))

    def detokenize(self, ids) -> tf.Tensor:
        """Joins the pieces of each row back into text (SentencePiece's own decoding)."""
        return self._tokenizer.detokenize(ids)

    def compute_output_spec(self, inputs):
        raise NotImplementedError("SentencePieceTokenizer returns ragged tensors; call it eagerly.")

    def get_config(self):
        return {
            **super().get_config(),
            "model": {"base64": base64.b64encode(self.model).decode("ascii")},
            "lowercase": self.lowercase,
            "keep_accents": self.keep_accents,
        }
