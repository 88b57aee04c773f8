"""GPT-2 / RoBERTa byte-level byte-pair encoding (BPE) as an in-graph Keras layer.

tensorflow-text has no BPE op, so the algorithm is written here with TensorFlow string ops,
hash tables and a `tf.while_loop`; everything runs inside the graph, so a SavedModel holding the
layer takes raw strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from layers.validation import check_bool

# What Python's `regex` `\s` (GPT-2) and Hugging Face tokenizers' `\s` match; RE2's `\s` is ASCII.
_WHITESPACE = (
    r"\t\n\x0b\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
)
_SPACE = f"[{_WHITESPACE}]"
# GPT-2 splits with
#     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
# RE2 has no lookahead. `\s+(?!\S)` only matters for a whitespace run followed by a non-space:
# it leaves the run's last character to start the next piece (" word" or a lone "\n"). So the
# text is first cut into chunks just before every whitespace character that is followed by a
# non-space (no GPT-2 piece crosses such a point), and inside a chunk a whitespace run is either
# that first character or ends the chunk, where `\s+(?!\S)` and `\s+` agree.
_CHUNK_START = f"{_SPACE}[^{_WHITESPACE}]"
_PIECE = "|".join(
    [
        "'s|'t|'re|'ve|'m|'ll|'d",
        r" ?\p{L}+",
        r" ?\p{N}+",
        rf" ?[^{_WHITESPACE}\p{{L}}\p{{N}}]+",
        f"{_SPACE}+",
    ]
)


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 bytes to printable characters (space -> "Ġ")."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    mapping, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            mapping[byte] = chr(byte)
        else:
            mapping[byte] = chr(256 + extra)
            extra += 1
    return mapping


def split_like_gpt2(text: tf.Tensor) -> tf.RaggedTensor:
    """Pre-tokenizes `(batch,)` strings into GPT-2's pieces, `(batch, None)` strings."""
    pieces, begins, _ = tf_text.regex_split_with_offsets(text, _CHUNK_START, _CHUNK_START)
    is_chunk_start = tf.ragged.map_flat_values(tf.strings.regex_full_match, pieces, _CHUNK_START)
    inner_starts = tf.ragged.boolean_mask(begins, is_chunk_start & (begins > 0))
    zeros = tf.zeros([tf.shape(text)[0], 1], inner_starts.dtype)
    starts = tf.concat([tf.RaggedTensor.from_tensor(zeros), inner_starts], axis=1)
    lengths = tf.cast(tf.strings.length(text), starts.dtype)[:, None]
    ends = tf.concat([starts[:, 1:], tf.RaggedTensor.from_tensor(lengths)], axis=1)
    chunks = tf.strings.substr(
        tf.gather(text, starts.value_rowids()),
        starts.flat_values,
        ends.flat_values - starts.flat_values,
    )
    pieces = tf_text.regex_split(chunks, _PIECE, _PIECE)
    return tf.RaggedTensor.from_row_splits(pieces, starts.row_splits).merge_dims(1, 2)


def _read_vocabulary(vocabulary) -> dict[str, int]:
    if isinstance(vocabulary, str):
        with tf.io.gfile.GFile(vocabulary) as f:
            vocabulary = json.load(f)
    if not isinstance(vocabulary, Mapping) or not all(
        isinstance(token, str) and isinstance(index, int) and not isinstance(index, bool)
        for token, index in vocabulary.items()
    ):
        raise TypeError(
            "`vocabulary` must be a dict of token -> id or the path of a `vocab.json`. "
            f"Received: vocabulary={_short(vocabulary)}"
        )
    vocabulary = dict(vocabulary)
    if len(set(vocabulary.values())) != len(vocabulary) or min(vocabulary.values(), default=0) < 0:
        raise ValueError(
            "`vocabulary` ids must be distinct non-negative integers. "
            f"Received: vocabulary={_short(vocabulary)}"
        )
    return vocabulary


def _read_merges(merges) -> list[str]:
    if isinstance(merges, str):
        with tf.io.gfile.GFile(merges) as f:
            lines = f.read().split("\n")
        # `merges.txt` starts with a "#version: ..." line and may end with an empty one.
        merges = [line for line in lines if line and not line.startswith("#version")]
    if not isinstance(merges, Iterable) or isinstance(merges, Mapping):
        raise TypeError(
            "`merges` must be a list of 'left right' strings or the path of a `merges.txt`. "
            f"Received: merges={_short(merges)}"
        )
    merges = [" ".join(m) if isinstance(m, tuple | list) else m for m in merges]
    for rank, merge in enumerate(merges):
        if not isinstance(merge, str) or len(merge.split(" ")) != 2:
            raise ValueError(
                "Each merge must be two symbols separated by one space, e.g. 'Ġ t'. "
                f"Received: merges[{rank}]={merge!r}"
            )
    return merges


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@keras.saving.register_keras_serializable(package="keras_zoo")
class BytePairTokenizer(keras.layers.Layer):
    """GPT-2/RoBERTa byte-level BPE tokenizer as a Keras layer on string tensors.

    Text is split into GPT-2's pieces (contractions, letter runs, digit runs, punctuation runs,
    whitespace, a single leading space kept with the word after it); each piece's UTF-8 bytes
    are mapped to printable characters (space becomes `Ġ`), then adjacent symbols are merged,
    always the pair with the lowest rank in `merges` first (the leftmost on ties), until no
    listed pair is left; the symbols are then looked up in `vocabulary`. Runs inside the graph,
    so it works in `tf.function`, `tf.data` and exported SavedModels. Special-token strings
    such as `"<mask>"` in the input are tokenized as ordinary text (Hugging Face's
    `split_special_tokens=True`), so user text cannot inject control tokens.

    Args:
        vocabulary: token -> id, a dict or the path of a `vocab.json`.
        merges: the merge rules, best first, as `"left right"` strings (or pairs), or the path
            of a `merges.txt`. Both symbols and their concatenation must be in `vocabulary`.
        unknown_token: the token for symbols missing from `vocabulary`; only needed (and then
            required to be in `vocabulary`) when some of the 256 byte symbols are missing.
            Defaults to `"<unk>"`.
        add_prefix_space: put a space before text that does not start with one, so the first
            word is tokenized like any other (RoBERTa's `add_prefix_space`). Defaults to `False`.
        **kwargs: `name` and the other `keras.layers.Layer` arguments.

    Call arguments:
        inputs: a string tensor `(batch,)` or scalar.

    Returns a `tf.RaggedTensor` of int32 ids, `(batch, None)` (or `(None,)` for a scalar).

    Example:

    ```python
    tokenizer = BytePairTokenizer("vocab.json", "merges.txt")
    ids = tokenizer(tf.constant(["Hello world!"]))
    text = tokenizer.detokenize(ids)  # [b"Hello world!"]
    ```

    Reference:
        Sennrich et al., "Neural Machine Translation of Rare Words with Subword Units", ACL 2016;
        Radford et al., "Language Models are Unsupervised Multitask Learners", 2019 (byte-level).
    """

    def __init__(
        self,
        vocabulary,
        merges,
        unknown_token: str | None = "<unk>",
        add_prefix_space: bool = False,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "int32")
        super().__init__(**kwargs)
        self.vocabulary = _read_vocabulary(vocabulary)
        self.merges = _read_merges(merges)
        self.add_prefix_space = check_bool("add_prefix_space", add_prefix_space)
        self.unknown_token = unknown_token
        self._check_merges()
        byte_symbols = bytes_to_unicode()
        missing = [s for s in byte_symbols.values() if s not in self.vocabulary]
        if missing and unknown_token not in self.vocabulary:
            raise ValueError(
                f"`vocabulary` lacks {len(missing)} byte symbol(s) (e.g. {missing[0]!r}), so it "
                "needs `unknown_token`, which must then be in it. "
                f"Received: unknown_token={unknown_token!r}"
            )
        self._no_merge = len(self.merges)
        self._ranks = _table(self.merges, range(len(self.merges)), self._no_merge)
        unknown_id = self.vocabulary.get(unknown_token, -1)
        self._ids = _table(list(self.vocabulary), list(self.vocabulary.values()), unknown_id)
        self._byte_to_symbol = _table(
            [bytes([b]) for b in byte_symbols], list(byte_symbols.values()), ""
        )
        self._symbol_to_byte = _table(list(byte_symbols.values()), list(byte_symbols), -1)
        inverse = [""] * (max(self.vocabulary.values(), default=0) + 1)
        for token, index in self.vocabulary.items():
            inverse[index] = token
        self._inverse = tf.constant(inverse)

    def _check_merges(self) -> None:
        for rank, merge in enumerate(self.merges):
            left, right = merge.split(" ")
            for symbol in (left, right, left + right):
                if symbol not in self.vocabulary:
                    raise ValueError(
                        f"Merge {merge!r} uses or makes {symbol!r}, which is not in "
                        f"`vocabulary`. Received: merges[{rank}]={merge!r}"
                    )

    @property
    def vocabulary_size(self) -> int:
        return len(self.vocabulary)

    def token_to_id(self, token: str) -> int:
        """The id of `token` (e.g. `"<s>"`)."""
        if token not in self.vocabulary:
            raise ValueError(f"Token not in the vocabulary. Received: token={token!r}")
        return self.vocabulary[token]

    def call(self, inputs):
        text = tf.convert_to_tensor(inputs)
        if text.dtype != tf.string or text.shape.rank not in (0, 1):
            raise ValueError(
                "BytePairTokenizer takes a string tensor of shape (batch,) or a scalar. "
                f"Received: inputs of dtype {text.dtype.name} and shape {text.shape}"
            )
        if text.shape.rank == 0:
            return self.call(text[None])[0]
        if self.add_prefix_space:
            needs_space = (tf.strings.length(text) > 0) & ~tf.strings.regex_full_match(
                text, " (?s:.)*"
            )
            text = tf.where(needs_space, tf.strings.join([" ", text]), text)
        pieces = split_like_gpt2(text)  # (batch, pieces)
        symbols = tf.ragged.map_flat_values(
            self._byte_to_symbol.lookup, tf.strings.bytes_split(pieces.flat_values)
        )  # (pieces, bytes)
        merged = self._merge(symbols)  # (pieces, tokens)
        ids = tf.ragged.map_flat_values(self._ids.lookup, merged)
        return tf.cast(pieces.with_flat_values(ids).merge_dims(1, 2), "int32")

    def _merge(self, symbols: tf.RaggedTensor) -> tf.RaggedTensor:
        """Applies the merges to every piece at once, one merge per piece per iteration."""
        no_merge = tf.constant(self._no_merge, tf.int64)

        def merge_once(values, splits, _):
            rows = tf.ragged.row_splits_to_segment_ids(splits)
            count = tf.maximum(tf.size(values, tf.int64), 1)
            # `x[:1]`-shaped fillers keep the shapes right when there are no symbols at all.
            following = tf.concat([values[1:], tf.zeros_like(values[:1])], axis=0)
            is_last = tf.concat([rows[1:] != rows[:-1], tf.ones_like(rows[:1], tf.bool)], axis=0)
            ranks = self._ranks.lookup(tf.strings.join([values, following], separator=" "))
            ranks = tf.where(is_last, no_merge, ranks)
            # One key per position: the lowest rank wins, then the leftmost position.
            keys = ranks * count + tf.range(count)[: tf.size(values)]
            best = tf.math.unsorted_segment_min(keys, rows, tf.size(splits) - 1)
            chosen = (tf.gather(best, rows) == keys) & (ranks < no_merge)
            dropped = tf.concat([tf.zeros_like(chosen[:1]), chosen[:-1]], axis=0)
            joined = tf.where(chosen, tf.strings.join([values, following]), values)
            merged_rows = tf.cast(best // count < no_merge, tf.int64)
            lengths = splits[1:] - splits[:-1] - merged_rows
            new_splits = tf.concat([[0], tf.cumsum(lengths)], axis=0)
            return tf.boolean_mask(joined, ~dropped), new_splits, tf.reduce_any(chosen)

        values, splits, _ = tf.while_loop(
            lambda values, splits, changed: changed,
            merge_once,
            (symbols.flat_values, symbols.row_splits, tf.constant(True)),
            shape_invariants=(tf.TensorShape([None]), tf.TensorShape([None]), tf.TensorShape([])),
        )
        return tf.RaggedTensor.from_row_splits(values, splits, validate=False)

    def detokenize(self, ids) -> tf.Tensor:
        """Turns ids back into text: the inverse of `call` (special tokens come out as text)."""
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.convert_to_tensor(ids)
        text = tf.strings.reduce_join(tf.gather(self._inverse, ids), axis=-1)
        characters = tf.strings.unicode_split(text, "UTF-8")
        byte_values = tf.ragged.map_flat_values(self._symbol_to_byte.lookup, characters)
        byte_strings = tf.constant([bytes([b]) for b in range(256)])
        raw = tf.ragged.map_flat_values(
            lambda chars, values: tf.where(
                values >= 0, tf.gather(byte_strings, tf.maximum(values, 0)), chars
            ),
            characters,
            byte_values,
        )
        return tf.strings.reduce_join(raw, axis=-1)

    def compute_output_spec(self, inputs):
        raise NotImplementedError("BytePairTokenizer returns ragged tensors; call it eagerly.")

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary": self.vocabulary,
            "merges": self.merges,
            "unknown_token": self.unknown_token,
            "add_prefix_space": self.add_prefix_space,
        }


def _table(keys, values, default) -> tf.lookup.StaticHashTable:
    keys, values = list(keys), list(values)
    if not keys:
        # Tables cannot be empty; " " is never looked up (symbols are non-empty, space-free).
        keys, values = [" "], [default]
    keys = tf.constant(keys, tf.string)
    values = tf.constant(values, tf.string if isinstance(default, str) else tf.int64)
    return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, values), default)
