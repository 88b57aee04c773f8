"""Import of Hugging Face T5 checkpoints (`model_type="t5"`): backbone or seq2seq LM."""

from __future__ import annotations

import os

from zoo.huggingface import register_converter
from zoo.models import WeightLoader
from zoo.text.huggingface import register_preprocessor_converter, tokenizer_options
from zoo.text.sentencepiece import SentencePieceTokenizer
from zoo.text.t5.backbone import T5Backbone
from zoo.text.t5.preprocessor import T5Preprocessor
from zoo.text.t5.seq2seq_lm import T5Seq2SeqLM

# Hugging Face `dense_act_fn` -> the backbone's `activation`.
ACTIVATIONS = {"relu": "relu", "gelu": "gelu", "gelu_new": "gelu_approximate"}


def backbone_arguments(config: dict) -> dict:
    """`T5Backbone` arguments of a Hugging Face `T5Config` dict."""
    projection = config.get("feed_forward_proj", "relu")
    gated = projection.startswith("gated-")
    activation = config.get("dense_act_fn") or projection.split("-")[-1]
    if projection == "gated-gelu":
        activation = "gelu_new"  # transformers' own mapping for T5 v1.1
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"Unsupported Hugging Face config: feed_forward_proj={projection!r} (activations "
            f"supported: {sorted(ACTIVATIONS)}). Received: feed_forward_proj={projection!r}"
        )
    return dict(
        vocabulary_size=config["vocab_size"],
        num_layers=config["num_layers"],
        num_heads=config["num_heads"],
        hidden_dim=config["d_model"],
        intermediate_dim=config["d_ff"],
        key_value_dim=config["d_kv"],
        num_decoder_layers=config.get("num_decoder_layers") or config["num_layers"],
        activation=ACTIVATIONS[activation],
        gated=gated,
        dropout=config.get("dropout_rate", 0.1),
        layer_norm_epsilon=config.get("layer_norm_epsilon", 1e-6),
        num_buckets=config.get("relative_attention_num_buckets", 32),
        max_distance=config.get("relative_attention_max_distance", 128),
    )


def _kernel(loader: WeightLoader, dense, name: str) -> None:
    """A torch `Linear` without bias into a keras `Dense` kernel."""
    loader.assign(dense.kernel, loader.get(f"{name}.weight").T, f"{name}.weight")


def _attention(loader: WeightLoader, attention, name: str) -> None:
    for ours, theirs in (("query", "q"), ("key", "k"), ("value", "v"), ("output_dense", "o")):
        _kernel(loader, getattr(attention, ours), f"{name}.{theirs}")


def _norm(loader: WeightLoader, norm, name: str) -> None:
    loader.assign(norm.scale, loader.get(f"{name}.weight"), f"{name}.weight")


def _feed_forward(loader: WeightLoader, feed_forward, name: str) -> None:
    if feed_forward.gated:
        _kernel(loader, feed_forward.input_dense, f"{name}.wi_0")
        _kernel(loader, feed_forward.gate_dense, f"{name}.wi_1")
    else:
        _kernel(loader, feed_forward.input_dense, f"{name}.wi")
    _kernel(loader, feed_forward.output_dense, f"{name}.wo")


def load_backbone_weights(loader: WeightLoader, backbone: T5Backbone) -> None:
    """Assigns a Hugging Face T5 checkpoint's weights to `backbone`."""
    shared = "shared.weight" if "shared.weight" in loader.weights else "encoder.embed_tokens.weight"
    loader.assign(backbone.token_embedding.embeddings, loader.get(shared), shared)
    for side, count in (("encoder", backbone.num_layers), ("decoder", backbone.num_decoder_layers)):
        bias = f"{side}.block.0.layer.0.SelfAttention.relative_attention_bias.weight"
        loader.assign(backbone.get_layer(f"{side}_position_bias").table, loader.get(bias), bias)
        _norm(loader, backbone.get_layer(f"{side}_norm"), f"{side}.final_layer_norm")
        for i in range(count):
            block = backbone.get_layer(f"{side}_block_{i}")
            prefix = f"{side}.block.{i}.layer"
            _attention(loader, block.self_attention, f"{prefix}.0.SelfAttention")
            _norm(loader, block.self_attention_norm, f"{prefix}.0.layer_norm")
            ffn = 1
            if side == "decoder":
                _attention(loader, block.cross_attention, f"{prefix}.1.EncDecAttention")
                _norm(loader, block.cross_attention_norm, f"{prefix}.1.layer_norm")
                ffn = 2
            _feed_forward(loader, block.feed_forward, f"{prefix}.{ffn}.DenseReluDense")
            _norm(loader, block.feed_forward_norm, f"{prefix}.{ffn}.layer_norm")


@register_converter("t5", tasks=("backbone", "seq2seq_lm"))
def t5_from_huggingface(config: dict, weights: dict, directory: str, task: str = "backbone"):
    """Builds a `T5Backbone` or `T5Seq2SeqLM` from a Hugging Face T5 checkpoint.

    T5 v1.0 checkpoints scale the decoder output and score with the token embeddings
    (`tie_word_embeddings`, or transformers 5's `scale_decoder_outputs`); v1.1 ones
    (`feed_forward_proj="gated-gelu"`, `tie_word_embeddings=False`) have their own `lm_head`.
    With `task="seq2seq_lm"` and a `spiece.model` in the directory, the model gets a
    `T5Preprocessor` (for string inputs to `generate`).

    Example:

    ```python
    backbone = zoo.from_huggingface("checkpoints/t5-small")
    model = zoo.from_huggingface("checkpoints/t5-small", task="seq2seq_lm")
    ```
    """
    backbone = T5Backbone(**backbone_arguments(config))
    loader = WeightLoader(weights, directory=directory)
    load_backbone_weights(loader, backbone)
    if task == "backbone":
        return backbone
    tied = bool(config.get("scale_decoder_outputs", config.get("tie_word_embeddings", True)))
    preprocessor = None
    if os.path.isfile(os.path.join(directory, "spiece.model")):
        preprocessor = t5_preprocessor_from_huggingface(directory, 512)
    model = T5Seq2SeqLM(
        backbone,
        preprocessor=preprocessor,
        tie_embeddings=tied,
        decoder_start_token_id=config.get("decoder_start_token_id", 0) or 0,
        end_token_id=config.get("eos_token_id", 1),
        pad_token_id=config.get("pad_token_id", 0) or 0,
    )
    if not tied:
        # transformers 5 ties `lm_head` to `shared` and may leave it out of the file.
        name = "lm_head.weight" if "lm_head.weight" in loader.weights else "shared.weight"
        loader.assign(model.get_layer("lm_head").kernel, loader.get(name).T, name)
    return model


@register_preprocessor_converter("t5")
def t5_preprocessor_from_huggingface(directory: str, sequence_length: int) -> T5Preprocessor:
    """A `T5Preprocessor` over the checkpoint's `spiece.model` (`extra_ids` sentinels)."""
    path = os.path.join(directory, "spiece.model")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No spiece.model in {directory!r}: T5 needs its vocabulary")
    options = tokenizer_options(directory)
    tokenizer = SentencePieceTokenizer(path, lowercase=False, keep_accents=True)
    extra_ids = options.get("extra_ids")
    if extra_ids is None:
        extra_ids = sum(
            1 for token in options.get("extra_special_tokens", []) if "extra_id" in str(token)
        )
    return T5Preprocessor(tokenizer, sequence_length, num_sentinels=int(extra_ids))
