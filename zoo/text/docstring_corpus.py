"""A small English corpus that ships with every Python: the standard library's docstrings.

`docstring_sentences()` imports a fixed list of standard-library modules (and the submodules of
the packages among them), collects the docstrings of each module and of the public classes,
functions and methods it defines, in sorted order, and splits them into sentences (whitespace
collapsed; code examples, argument lists and very short or long sentences dropped; a sentence
seen twice is kept once, the first time). Nothing is downloaded, and the result is the same on
every run of one Python version (docstrings change between Python releases; the figures in
BENCHMARKS.md are from CPython 3.11).

`write_docstring_corpus()` turns it into a pretraining corpus (TFRecords with a `"text"` feature, as
`zoo.text.pretrain_mlm` and `pretrain_electra` read) and a sentence-classification task: which of
`LABELLED_MODULES` a sentence comes from (its top-level module or package), split into train and
test sentences (the same number per class, so chance is one over the number of classes); the test
sentences are left out of the pretraining corpus. Words naming the sentence's module are removed
from the labelled sentences, so that the task needs the sentence's meaning, not one give-away token.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
import pkgutil
import re
import warnings

import numpy as np

import tfrecords
from layers.validation import check_int_at_least

# Standard-library modules and packages read (all present in CPython 3.11 on Linux; a missing
# one, e.g. tkinter without Tk, is skipped). Sorted; packages bring their submodules.
MODULES = (
    "argparse", "ast", "asyncio", "base64", "bdb", "calendar", "cmd", "codecs", "collections",
    "concurrent", "configparser", "contextlib", "copy", "csv", "ctypes", "dataclasses",
    "datetime", "decimal", "difflib", "dis", "doctest", "email", "enum", "fileinput", "fnmatch",
    "fractions", "ftplib", "functools", "gettext", "glob", "gzip", "heapq", "hmac", "html",
    "http", "imaplib", "importlib", "inspect", "ipaddress", "json", "locale", "logging", "lzma",
    "mailbox", "mimetypes", "multiprocessing", "numbers", "operator", "optparse", "os",
    "pathlib", "pdb", "pickle", "pickletools", "pkgutil", "platform", "plistlib", "poplib",
    "pprint", "pydoc", "queue", "random", "re", "sched", "secrets", "selectors", "shelve",
    "shlex", "shutil", "smtplib", "socket", "socketserver", "sqlite3", "ssl", "statistics",
    "string", "subprocess", "tarfile", "tempfile", "textwrap", "threading", "timeit",
    "tkinter", "tokenize", "trace", "traceback", "turtle", "typing", "unittest", "urllib",
    "uuid", "warnings", "wave", "weakref", "wsgiref", "xml", "xmlrpc", "zipfile", "zipimport",
)  # fmt: skip
# The classification task's classes: large, topically distinct modules and packages.
LABELLED_MODULES = (
    "asyncio", "email", "http", "logging", "multiprocessing", "tkinter", "unittest", "xml",
)  # fmt: skip
SKIPPED_SUBMODULES = ("test", "tests", "__main__", "idle_test")
MIN_WORDS, MAX_WORDS = 5, 60


def _submodules(package) -> list:
    """`package` and its importable submodules, sorted by name (tests and `__main__` skipped)."""
    modules = [package]
    if not hasattr(package, "__path__"):
        return modules
    names = sorted(
        info.name for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
    )
    for name in names:
        if any(part in SKIPPED_SUBMODULES for part in name.split(".")):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                modules.append(importlib.import_module(name))
        except Exception:  # noqa: BLE001 - platform-specific submodules (e.g. Windows ones)
            continue
    return modules


def _docstrings(module) -> list[str]:
    """The module's docstring, then its own public classes' and functions' (and the classes'
    methods'), in sorted order."""
    texts = [module.__doc__ or ""]
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            texts.append(obj.__doc__ or "")
        elif inspect.isclass(obj):
            texts.append(obj.__doc__ or "")
            for method_name, method in sorted(vars(obj).items()):
                if not method_name.startswith("_") and inspect.isfunction(method):
                    texts.append(method.__doc__ or "")
    return texts


def split_sentences(text: str) -> list[str]:
    """Prose sentences of a docstring: paragraphs with code (`>>>`, indented blocks, lines
    ending in `:` followed by indentation) dropped, whitespace collapsed, split after `.`, `!`
    or `?` followed by a capital; sentences of `MIN_WORDS` to `MAX_WORDS` words that hold
    mostly letters are kept."""
    sentences = []
    for paragraph in re.split(r"\n\s*\n", inspect.cleandoc(text)):
        lines = paragraph.splitlines()
        if any(line.startswith((" ", "\t", ">>>", "...")) for line in lines):
            continue
        prose = " ".join(line.strip() for line in lines)
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z])", prose):
            words = sentence.split()
            letters = sum(c.isalpha() or c.isspace() for c in sentence)
            if MIN_WORDS <= len(words) <= MAX_WORDS and letters >= 0.8 * len(sentence):
                sentences.append(" ".join(words))
    return sentences


def docstring_sentences(modules: tuple[str, ...] = MODULES) -> list[tuple[str, str]]:
    """`(top-level module, sentence)` pairs from the docstrings of `modules`, in a fixed order,
    each sentence once (at its first occurrence).

    Example:

    ```python
    pairs = docstring_sentences(("json", "csv"))
    pairs[0]  # ('json', 'JSON (JavaScript Object Notation) <https://json.org> is a ...')
    ```
    """
    seen: set[str] = set()
    pairs = []
    for top in modules:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                package = importlib.import_module(top)
        except Exception:  # noqa: BLE001 - e.g. tkinter without Tk
            continue
        for module in _submodules(package):
            for text in _docstrings(module):
                for sentence in split_sentences(text):
                    if sentence not in seen:
                        seen.add(sentence)
                        pairs.append((top, sentence))
    return pairs


def blank_module_name(sentence: str, module: str) -> str:
    """`sentence` without the words that name `module` (e.g. `asyncio`, `asyncio.Task`)."""
    words = [w for w in sentence.split() if module not in w.lower()]
    return " ".join(words)


@dataclasses.dataclass
class DocstringCorpus:
    """What `write_docstring_corpus` wrote and returned.

    Attributes:
        pretraining_files: the TFRecord prefix of the pretraining corpus (feature `"text"`).
        pretraining_sentences: its sentences, in the order written.
        train_texts, train_labels: the classification task's training sentences and class ids.
        test_texts, test_labels: its test sentences and class ids (not in the pretraining
            corpus).
        label_names: the module of each class id.
    """

    pretraining_files: str
    pretraining_sentences: list[str]
    train_texts: list[str]
    train_labels: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray
    label_names: tuple[str, ...]


def write_docstring_corpus(
    directory: str,
    labelled_modules: tuple[str, ...] = LABELLED_MODULES,
    train_per_class: int = 100,
    test_per_class: int = 40,
    seed: int = 0,
    modules: tuple[str, ...] = MODULES,
) -> DocstringCorpus:
    """Writes the docstring pretraining corpus and builds the module-classification task.

    The sentences of `labelled_modules` are shuffled with `seed` and split per class:
    `test_per_class` for testing, then `train_per_class` for training (a small labelled set,
    where pretraining matters); a module with fewer than `train_per_class + test_per_class`
    sentences is refused. Labelled sentences lose the words naming
    their module (`blank_module_name`). Every sentence except the test ones goes to the
    pretraining corpus, `directory/pretraining` (TFRecords, feature `"text"`).

    Args:
        directory: where the TFRecords go (created if needed).
        labelled_modules: the classes. Defaults to `LABELLED_MODULES`.
        train_per_class: training sentences per class. Defaults to `100`.
        test_per_class: test sentences per class. Defaults to `40`.
        seed: seed of the split. Defaults to `0`.
        modules: the modules read. Defaults to `MODULES`.

    Returns:
        A `DocstringCorpus`.

    Example:

    ```python
    corpus = write_docstring_corpus("data/docstrings")
    pretrain_mlm(mlm, corpus.pretraining_files, preprocessor)
    classifier.fit(preprocessor(corpus.train_texts), corpus.train_labels)
    ```
    """
    check_int_at_least("train_per_class", train_per_class, 1)
    check_int_at_least("test_per_class", test_per_class, 1)
    missing = sorted(set(labelled_modules) - set(modules))
    if missing:
        raise ValueError(
            f"Every labelled module must be among `modules`. Received: labelled_modules={missing}"
        )
    pairs = docstring_sentences(modules)
    rng = np.random.default_rng(seed)
    train, test, held_out = [], [], set()
    for label, module in enumerate(labelled_modules):
        sentences = [s for top, s in pairs if top == module]
        order = rng.permutation(len(sentences))
        num_test = test_per_class
        if len(sentences) < train_per_class + test_per_class:
            raise ValueError(
                f"Module {module!r} has {len(sentences)} sentences, fewer than "
                f"train_per_class + test_per_class. Received: train_per_class="
                f"{train_per_class}, test_per_class={test_per_class}"
            )
        test += [(blank_module_name(sentences[i], module), label) for i in order[:num_test]]
        held_out.update(sentences[i] for i in order[:num_test])
        chosen = order[num_test : num_test + train_per_class]
        train += [(blank_module_name(sentences[i], module), label) for i in chosen]
    train = [train[i] for i in rng.permutation(len(train))]
    pretraining = [s for _, s in pairs if s not in held_out]
    os.makedirs(directory, exist_ok=True)
    prefix = os.path.join(directory, "pretraining")
    tfrecords.write({"text": np.array(pretraining, dtype=object)}, prefix, verbose=0)
    return DocstringCorpus(
        pretraining_files=prefix,
        pretraining_sentences=pretraining,
        train_texts=[t for t, _ in train],
        train_labels=np.array([label for _, label in train], "int32"),
        test_texts=[t for t, _ in test],
        test_labels=np.array([label for _, label in test], "int32"),
        label_names=tuple(labelled_modules),
    )
