"""The standard-library docstring corpus and its module-classification task."""

import numpy as np
import pytest

import tfrecords
from zoo.text import docstring_corpus
from zoo.text.docstring_corpus import (
    blank_module_name,
    docstring_sentences,
    split_sentences,
    write_docstring_corpus,
)

FEW = ("csv", "json", "shlex")


def test_split_sentences_keeps_prose_and_drops_code():
    text = """Parse the arguments. Then return them as a list of strings.

    Example::

        >>> parse("a b")
        ['a', 'b']

    Too short. This sentence mentions x.y() and ends here!
    """
    assert split_sentences(text) == [
        "Then return them as a list of strings.",
        "This sentence mentions x.y() and ends here!",
    ]


def test_sentences_are_deterministic_unique_and_labelled_by_top_module():
    pairs = docstring_sentences(FEW)
    assert pairs == docstring_sentences(FEW)
    sentences = [s for _, s in pairs]
    assert len(sentences) == len(set(sentences)) > 30
    assert {m for m, _ in pairs} == set(FEW)
    assert all(
        docstring_corpus.MIN_WORDS <= len(s.split()) <= docstring_corpus.MAX_WORDS
        for s in sentences
    )
    assert any("JSON" in s for m, s in pairs if m == "json")


def test_blank_module_name_removes_the_giveaway_words():
    assert blank_module_name("Use json.dumps to write JSON text", "json") == "Use to write text"


def test_written_corpus_keeps_test_sentences_out_of_pretraining(tmp_path):
    corpus = write_docstring_corpus(
        str(tmp_path),
        labelled_modules=("csv", "json"),
        train_per_class=5,
        test_per_class=4,
        modules=FEW,
    )
    assert corpus.label_names == ("csv", "json")
    assert np.bincount(corpus.train_labels).tolist() == [5, 5]
    assert np.bincount(corpus.test_labels).tolist() == [4, 4]
    assert len(corpus.test_texts) == 8
    assert not any("json" in t.lower() for t in corpus.test_texts)  # module names removed
    pairs = dict((s, m) for m, s in docstring_sentences(FEW))
    held_out = {s for s, m in pairs.items() if m in ("csv", "json")}
    held_out -= set(corpus.pretraining_sentences)
    assert len(held_out) == len(corpus.test_texts)
    records = tfrecords.read(corpus.pretraining_files, batch_size=1000, shuffle=False)
    written = [t.decode() for batch in records for t in np.asarray(batch["text"]).ravel()]
    assert written == corpus.pretraining_sentences


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match=r"labelled_modules=\['nope'\]"):
        write_docstring_corpus(str(tmp_path), labelled_modules=("nope",), modules=FEW)
    with pytest.raises(ValueError, match=r"train_per_class=0"):
        write_docstring_corpus(str(tmp_path), train_per_class=0, modules=FEW)
    with pytest.raises(ValueError, match=r"'csv' has \d+ sentences.*train_per_class=1000"):
        write_docstring_corpus(
            str(tmp_path), labelled_modules=("csv",), train_per_class=1000, modules=FEW
        )
