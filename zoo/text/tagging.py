"""The heads of the zoo's taggers: a per-token softmax (dense) head, or a linear-chain CRF.

`BertTokenClassifier` and `BiLSTMTagger` take `head="softmax"` (a dense layer scores each token
on its own; the model outputs logits) or `head="crf"` (a CRF layer, `layers.crf.CRF`, scores
the tags and the transitions between them; the model outputs the Viterbi-decoded tag ids,
int32 `(batch, length)`, from `predict` and from an exported serving signature alike). Both
read the padding from the `padding_mask` input. `CRFTrainingMixin` gives a task with a CRF
head its training: the negative log-likelihood of the gold tag sequence, computed from the
potentials in `compute_loss`.

Reference:
    Lample et al., "Neural Architectures for Named Entity Recognition", NAACL 2016 (the
    BiLSTM-CRF tagger); Lafferty, McCallum and Pereira, "Conditional Random Fields", ICML 2001.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.crf import CRF, crf_log_likelihood
from layers.validation import check_choice
from zoo.models import check_output_activation, classification_head
from zoo.text.distillation_losses import weighted_mean

HEADS = ("softmax", "crf")
CRF_LAYER_NAME = "crf"


def check_tagging_head(head: str, output_activation: str | None) -> str:
    """`"softmax"` or `"crf"`; a CRF head outputs decoded tags, so it takes no activation."""
    check_choice("head", head, HEADS)
    check_output_activation(output_activation)
    if head == "crf" and output_activation is not None:
        raise ValueError(
            "A CRF head outputs decoded tag ids, not scores: `output_activation` must be None "
            f"with head='crf'. Received: output_activation={output_activation!r}"
        )
    return head


def tagging_head(
    features,
    padding_mask,
    num_classes: int,
    *,
    head: str = "softmax",
    dropout: float = 0.0,
    output_activation: str | None = None,
    dtype=None,
    dropout_name: str = "classifier_dropout",
):
    """Dropout (when `dropout > 0`), then a dense `"logits"` layer or a `"crf"` layer.

    Both last layers compute in float32 under `mixed_float16`.

    Args:
        features: the symbolic `(batch, length, features)` tensor to tag.
        padding_mask: the symbolic `(batch, length)` mask, 1 for tokens and 0 for padding at
            the end of each row; the CRF decodes and scores each row up to its length.
        num_classes: number of tags.
        head: `"softmax"` (per-token logits, or probabilities with
            `output_activation="softmax"`) or `"crf"` (decoded int32 tag ids). Defaults to
            `"softmax"`.
        dropout: dropout rate before the last layer. Defaults to `0.0`.
        output_activation: `None` or `"softmax"`, softmax head only. Defaults to `None`.
        dtype: dtype policy of the dropout layer. Defaults to the global policy.
        dropout_name: name of the dropout layer. Defaults to `"classifier_dropout"`.

    Returns:
        The model's output: the logits (softmax head) or the decoded tags (CRF head).

    Example:

    ```python
    tags = tagging_head(sequence, inputs["padding_mask"], 9, head="crf", dtype=policy)
    ```
    """
    check_tagging_head(head, output_activation)
    if head == "softmax":
        return classification_head(
            features,
            num_classes,
            dropout=dropout,
            output_activation=output_activation,
            dtype=dtype,
            dropout_name=dropout_name,
        )
    if dropout:
        features = keras.layers.Dropout(dropout, name=dropout_name, dtype=dtype)(features)
    mask = ops.cast(padding_mask, "bool")
    decoded, _, _, _ = CRF(num_classes, name=CRF_LAYER_NAME, dtype="float32")(features, mask=mask)
    return decoded


class CRFTrainingMixin:
    """Training of a tagging `zoo.models.Task` whose `head` is `"crf"` (put it first in the bases).

    Such a task outputs decoded tags, so its loss comes from elsewhere: `compute_loss` takes
    the CRF's potentials, lengths and transitions from the call that produced `y_pred`
    (`CRF.last_outputs`: one forward pass per step) and returns the mean negative
    log-likelihood of the gold tag sequences,
    `-crf_log_likelihood(potentials, tags, lengths, transitions)`, plus the layers' own losses.
    Called with a `y_pred` the model did not just produce, it runs the model up to the
    potentials itself. The model compiles without a Keras loss (`loss` must be `"auto"` or
    `None`) and with token accuracy as a weighted metric; padding stays out of both (the
    lengths for the loss, the decoded tags' mask for the accuracy). A per-token
    `sample_weight` (the padding mask, as the softmax head takes) weights each sequence by its
    largest token weight; a `(batch,)` one weights the sequences. A task with
    `head="softmax"` is untouched.

    The task calls `init_crf_training()` at the end of its `__init__`.
    """

    def init_crf_training(self) -> None:
        """Records the sub-model from the inputs to the CRF's potentials and lengths."""
        if self.head != "crf":
            return
        _, potentials, lengths, _ = self.get_layer(CRF_LAYER_NAME).output
        self._crf_scores = keras.Model(self.input, [potentials, lengths], name="crf_scores")

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """As `zoo.models.Task.compile`; with a CRF head the loss is the CRF's (see the class).

        Raises:
            ValueError: a CRF head compiled with a `loss` other than `"auto"` or `None`.
        """
        if getattr(self, "head", "softmax") == "crf":
            if not (loss is None or (isinstance(loss, str) and loss == "auto")):
                raise ValueError(
                    "A tagger with head='crf' trains with the CRF negative log-likelihood: "
                    f"`loss` must be 'auto' or None. Received: loss={loss!r}"
                )
            loss = None
            metrics = kwargs.pop("weighted_metrics", metrics)
            if isinstance(metrics, str) and metrics == "auto":
                metrics = [keras.metrics.Accuracy(name="accuracy")]
            kwargs["weighted_metrics"] = metrics
            metrics = None
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if getattr(self, "head", "softmax") != "crf":
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        crf = self.get_layer(CRF_LAYER_NAME)
        last = crf.last_outputs()
        if last is not None and last[0] is y_pred:  # the call that produced y_pred
            _, potentials, lengths, transitions = last
        else:
            potentials, lengths = self._crf_scores(x, training=training)
            transitions = crf.chain_kernel
        log_likelihood, _ = crf_log_likelihood(
            potentials, ops.cast(y, "int32"), lengths, transitions
        )
        if sample_weight is not None and len(sample_weight.shape) == 2:
            sample_weight = ops.max(sample_weight, axis=1)
        loss = weighted_mean(-log_likelihood, sample_weight)
        for extra in self.losses:
            loss = loss + ops.sum(ops.cast(extra, "float32"))
        # Keras losses divide by the number of replicas (their gradients are summed).
        return loss / tf.distribute.get_strategy().num_replicas_in_sync

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if (
            getattr(self, "head", "softmax") == "crf"
            and sample_weight is not None
            and len(sample_weight.shape) == 1
        ):
            # One weight per sequence, broadcast over its tokens (Keras does not combine a
            # `(batch,)` weight with the decoded tags' `(batch, length)` mask).
            sample_weight = ops.expand_dims(sample_weight, -1)
        return super().compute_metrics(x, y, y_pred, sample_weight=sample_weight)
