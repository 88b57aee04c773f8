"""ELECTRA's replaced-token detection vs BERT's masked LM, same encoder and pretraining steps.

The learning check of Clark et al. 2020 (ELECTRA, ICLR 2020) at a size two CPU cores can run:
both sides pretrain the same encoder, an `ElectraBackbone` of `--layers` layers, width
`--hidden` (embeddings as wide as the layers, so it is BERT's encoder without a pooler), on the
Python standard library's docstrings (`zoo.text.docstring_corpus`, built offline), for the same
number of epochs with the same batch and sequence length (same steps and examples; ELECTRA's
step also runs its 1/4-width generator, so its wall time is higher: both are printed). ELECTRA
trains with `ElectraPretrainer` (loss MLM + 50 x RTD), BERT with `BertMaskedLM` and
`pretrain_mlm` (80/10/10 masking); both 15% masking, AdamW peaking at `--pretrain-lr` with the
same learning-rate schedule, linear warmup over `--warmup-fraction` of the steps then linear
decay to 0 (ELECTRA's: `pretrain_electra`'s default `layers.schedules.learning_rate_schedule(
"linear_warmup_polynomial", ...)`, built by the same call for BERT; `--warmup-fraction 0` keeps
a constant rate on both sides, as the first runs did). Then each
encoder (and a randomly initialised one, for reference) is fine-tuned with `BertClassifier`
(first token, dropout, dense) on the docstring module-classification task (which of 8
top-level modules a sentence comes from, module names removed; 100 training and 40 test
sentences per class, so chance is 0.125) for each `--seeds` seed, and the test accuracy is
reported as mean and spread, with ELECTRA's last-epoch RTD accuracy, its base rate (the share of
real tokens not replaced: what always answering "original" scores) and RTD AUC.

    .venv/bin/python -m benchmarks.bench_electra [--epochs 2] [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from layers.schedules import learning_rate_schedule  # noqa: E402
from zoo.text import (  # noqa: E402
    BertClassifier,
    BertMaskedLM,
    BertPreprocessor,
    WordPieceTokenizer,
    pretrain_mlm,
    train_wordpiece_vocabulary,
)
from zoo.text.docstring_corpus import write_docstring_corpus  # noqa: E402
from zoo.text.electra import (  # noqa: E402
    ElectraBackbone,
    ElectraDiscriminator,
    ElectraPretrainer,
    pretrain_electra,
    special_token_ids,
)


def make_backbone(args, vocabulary_size: int, seed: int) -> ElectraBackbone:
    keras.utils.set_random_seed(seed)
    return ElectraBackbone(
        vocabulary_size,
        num_layers=args.layers,
        num_heads=max(1, args.hidden // 64),
        hidden_dim=args.hidden,
        intermediate_dim=4 * args.hidden,
        embedding_dim=args.hidden,
        max_sequence_length=args.sequence_length,
    )


def pretrain(kind: str, args, corpus, preprocessor, seed: int):
    """The pretrained backbone of `kind` ("electra" or "bert") and the seconds it took."""
    tokenizer = preprocessor.tokenizer
    backbone = make_backbone(args, tokenizer.vocabulary_size, seed)
    steps = args.epochs * -(-len(corpus.pretraining_sentences) // args.batch_size)
    warmup = int(args.warmup_fraction * steps)
    start = time.perf_counter()
    if kind == "electra":
        # A constant peak rate: `pretrain_electra` gives it the warmup and decay.
        optimizer = keras.optimizers.AdamW(args.pretrain_lr, weight_decay=0.01)
        model = ElectraPretrainer(
            ElectraDiscriminator(backbone),
            mask_token_id=tokenizer.token_to_id("[MASK]"),
            num_masked=args.num_masked,
            special_token_ids=special_token_ids(preprocessor),
            seed=seed,
        )
        model.compile(optimizer=optimizer)
        history = pretrain_electra(
            model, corpus.pretraining_files, preprocessor, epochs=args.epochs,
            batch_size=args.batch_size, seed=seed, verbose=args.verbose,
            schedule="linear_warmup_polynomial" if warmup else None, warmup_steps=warmup,
        )  # fmt: skip
        assert int(model.optimizer.iterations) == steps
        last = {k: v[-1] for k, v in history.history.items()}
        summary = {
            "mlm_accuracy": round(last["mlm_accuracy"], 3),
            "rtd_accuracy": round(last["rtd_accuracy"], 3),
            "rtd_base_rate": round(1.0 - last["replaced_fraction"], 3),
            "rtd_auc": round(last["rtd_auc"], 3),
            "rtd_loss": round(last["rtd_loss"], 3),
        }
    else:
        rate = (
            learning_rate_schedule("linear_warmup_polynomial", args.pretrain_lr, steps, warmup)
            if warmup
            else args.pretrain_lr
        )
        optimizer = keras.optimizers.AdamW(rate, weight_decay=0.01)
        model = BertMaskedLM(backbone, num_masked=args.num_masked)
        model.compile(optimizer=optimizer)
        history = pretrain_mlm(
            model, corpus.pretraining_files, preprocessor, epochs=args.epochs,
            batch_size=args.batch_size, seed=seed, verbose=args.verbose,
        )  # fmt: skip
        assert int(model.optimizer.iterations) == steps
        summary = {"mlm_accuracy": round(history.history["accuracy"][-1], 3)}
    return backbone, time.perf_counter() - start, summary


def finetune(backbone, args, corpus, preprocessor, seed: int) -> float:
    """Test accuracy of a `BertClassifier` fine-tuned from a copy of `backbone`'s weights."""
    keras.utils.set_random_seed(seed)
    copy = ElectraBackbone.from_config(backbone.get_config())
    copy.set_weights(backbone.get_weights())
    classifier = BertClassifier(copy, num_classes=len(corpus.label_names))
    classifier.compile(learning_rate=args.finetune_lr, jit_compile=False)
    train = {k: np.asarray(v) for k, v in preprocessor(np.array(corpus.train_texts)).items()}
    test = {k: np.asarray(v) for k, v in preprocessor(np.array(corpus.test_texts)).items()}
    classifier.fit(
        train, corpus.train_labels, batch_size=32, epochs=args.finetune_epochs, verbose=0
    )
    _, accuracy = classifier.evaluate(test, corpus.test_labels, batch_size=128, verbose=0)
    return float(accuracy)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=2, help="pretraining passes, both sides")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--num-masked", type=int, default=12)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--vocabulary-size", type=int, default=4000)
    parser.add_argument("--pretrain-lr", type=float, default=1e-3, help="peak rate")
    parser.add_argument(
        "--warmup-fraction", type=float, default=0.1,
        help="warmup share of the pretraining steps, both sides (0: constant rate)",
    )  # fmt: skip
    parser.add_argument("--finetune-lr", type=float, default=5e-4)
    parser.add_argument("--finetune-epochs", type=int, default=15)
    parser.add_argument("--pretrain-seeds", default="0", help="comma list")
    parser.add_argument("--seeds", default="0,1,2", help="fine-tuning seeds, comma list")
    parser.add_argument("--verbose", type=int, default=2, help="Keras progress output")
    args = parser.parse_args(argv)

    directory = tempfile.mkdtemp(prefix="bench_electra_")
    corpus = write_docstring_corpus(directory)
    vocabulary = train_wordpiece_vocabulary(corpus.pretraining_sentences, args.vocabulary_size)
    preprocessor = BertPreprocessor(WordPieceTokenizer(vocabulary), args.sequence_length)
    print(
        f"corpus: {len(corpus.pretraining_sentences)} pretraining sentences, "
        f"{len(corpus.train_texts)} train / {len(corpus.test_texts)} test labelled "
        f"({len(corpus.label_names)} classes), vocabulary {len(vocabulary)}",
        flush=True,
    )
    fine_seeds = [int(s) for s in args.seeds.split(",")]
    results: dict[str, list[float]] = {"electra": [], "bert": [], "none": []}
    for pretrain_seed in [int(s) for s in args.pretrain_seeds.split(",")]:
        for kind in ("electra", "bert", "none"):
            if kind == "none":
                backbone = make_backbone(args, len(vocabulary), pretrain_seed)
                seconds, summary = 0.0, {}
            else:
                backbone, seconds, summary = pretrain(
                    kind, args, corpus, preprocessor, pretrain_seed
                )
            accuracies = [finetune(backbone, args, corpus, preprocessor, s) for s in fine_seeds]
            results[kind] += accuracies
            print(
                f"{kind:8s} pretrain seed {pretrain_seed}: {seconds:7.1f} s pretraining "
                f"{summary}; fine-tuned test accuracy "
                f"{', '.join(f'{a:.3f}' for a in accuracies)}",
                flush=True,
            )
    print("\n| pretraining | test accuracy, mean ± std (runs) |")
    print("|---|---|")
    for kind, accuracies in results.items():
        a = np.array(accuracies)
        print(f"| {kind} | {a.mean():.3f} ± {a.std():.3f} ({len(a)}) |")
    gap = np.mean(results["electra"]) - np.mean(results["bert"])
    print(f"\nELECTRA - BERT: {gap:+.3f} accuracy")


if __name__ == "__main__":
    main()
