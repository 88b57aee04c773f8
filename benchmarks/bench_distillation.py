"""DistilBERT-style distillation vs training the same student from scratch, on the same budget.

A 2-layer BERT teacher is pretrained with masked-LM on the training part of the repository's
tiny corpus. A 1-layer DistilBERT student is then trained for the same number of epochs either
from scratch with the masked-LM loss (`pretrain_mlm`) or initialised from the teacher
(`init_student_from_teacher`) and distilled (`distil`: soft targets, MLM and hidden-state
cosine). Metric: masked-token accuracy on held-out sentences, the same masked batches for every
model, mean over seeds.

Run: `.venv/bin/python -m benchmarks.bench_distillation`
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tfrecords  # noqa: E402
import zoo.text  # noqa: E402
from zoo.text.distillation import distil, init_student_from_teacher  # noqa: E402

CORPUS = os.path.join(os.path.dirname(zoo.text.__file__), "data", "tiny_corpus.txt")
SEQUENCE, MASKED, BATCH = 24, 4, 16
TEACHER_EPOCHS, STUDENT_EPOCHS = 40, 10
SEEDS = (0, 1)
WIDTHS = {"num_heads": 2, "hidden_dim": 32, "intermediate_dim": 64, "dropout": 0.0}


def masked_accuracy(model, batches) -> float:
    correct = total = 0.0
    for inputs, targets, weights in batches:
        names = list(model.input)
        logits = model.predict({k: inputs[k] for k in names}, verbose=0)
        hits = (logits.argmax(-1) == targets.numpy()) * weights.numpy()
        correct += hits.sum()
        total += weights.numpy().sum()
    return correct / total


def run_seed(seed, directory, preprocessor, vocabulary_size, eval_batches):
    keras.utils.set_random_seed(seed)
    teacher = zoo.text.BertMaskedLM(
        zoo.text.BertBackbone(vocabulary_size, 2, max_sequence_length=SEQUENCE, **WIDTHS), MASKED
    )
    teacher.compile(optimizer=keras.optimizers.AdamW(3e-3))
    zoo.text.pretrain_mlm(
        teacher, directory, preprocessor, TEACHER_EPOCHS, BATCH, seed=seed, verbose=0
    )

    def student():
        backbone = zoo.text.DistilBertBackbone(
            vocabulary_size, 1, max_sequence_length=SEQUENCE, **WIDTHS
        )
        return zoo.text.BertMaskedLM(backbone, MASKED)

    results = {"teacher (2 layers)": (masked_accuracy(teacher, eval_batches), 0.0, teacher)}
    keras.utils.set_random_seed(seed + 100)
    scratch = student()
    scratch.compile(optimizer=keras.optimizers.AdamW(3e-3))
    start = time.perf_counter()
    zoo.text.pretrain_mlm(
        scratch, directory, preprocessor, STUDENT_EPOCHS, BATCH, seed=seed, verbose=0
    )
    results["student from scratch (MLM)"] = (
        masked_accuracy(scratch, eval_batches), time.perf_counter() - start, scratch
    )  # fmt: skip

    keras.utils.set_random_seed(seed + 100)
    distilled = student()
    init_student_from_teacher(teacher.backbone, distilled.backbone)
    data = zoo.text.mlm_dataset(directory, preprocessor, MASKED, BATCH, seed=seed)
    start = time.perf_counter()
    distil(
        teacher, distilled, data, STUDENT_EPOCHS, optimizer=keras.optimizers.Adam(3e-3),
        verbose=0,
    )  # fmt: skip
    results["student distilled (init + distil)"] = (
        masked_accuracy(distilled, eval_batches), time.perf_counter() - start, distilled
    )  # fmt: skip
    return results


def main() -> None:
    with open(CORPUS) as f:
        lines = [line for line in f.read().splitlines() if line]
    train, held_out = lines[:128], lines[128:]
    vocabulary = zoo.text.train_wordpiece_vocabulary(train, vocabulary_size=200)
    preprocessor = zoo.text.BertPreprocessor(zoo.text.WordPieceTokenizer(vocabulary), SEQUENCE)
    directory = os.path.join(os.environ.get("TMPDIR", "/tmp"), "bench_distillation")
    for split, split_lines in (("train", train), ("eval", held_out)):
        texts = np.array(split_lines, dtype=object)
        tfrecords.write({"text": texts}, os.path.join(directory, split), verbose=0)
    tf.random.set_seed(1234)  # the same held-out masks for every model
    eval_data = zoo.text.mlm_dataset(
        os.path.join(directory, "eval"), preprocessor, MASKED, BATCH, shuffle=False
    )
    eval_batches = [list(batch) for _ in range(5) for batch in eval_data]  # 5 maskings

    table: dict[str, list] = {}
    for seed in SEEDS:
        for name, (accuracy, seconds, model) in run_seed(
            seed, os.path.join(directory, "train"), preprocessor, len(vocabulary), eval_batches
        ).items():
            table.setdefault(name, []).append((accuracy, seconds, model.count_params()))
    scratch = np.mean([a for a, _, _ in table["student from scratch (MLM)"]])
    print(
        f"Held-out masked-token accuracy, tiny corpus ({len(train)} train / {len(held_out)} "
        f"held-out sentences), student budget {STUDENT_EPOCHS} epochs, seeds {SEEDS}.\n"
    )
    print("| model | parameters | masked-token accuracy | vs scratch | student train time (s) |")
    print("|---|---:|---:|---:|---:|")
    for name, rows in table.items():
        accuracy = np.mean([a for a, _, _ in rows])
        seconds = np.mean([s for _, s, _ in rows])
        print(
            f"| {name} | {rows[0][2]:,} | {accuracy:.3f} | {accuracy / scratch:.2f}x | "
            f"{seconds:.1f} |"
        )


if __name__ == "__main__":
    main()
