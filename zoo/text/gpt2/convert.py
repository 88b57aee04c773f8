"""Import of Hugging Face GPT-2 checkpoints (`model_type="gpt2"`): backbone or causal LM."""

from __future__ import annotations

from zoo.huggingface import register_converter
from zoo.models import WeightLoader, check_config
from zoo.text.gpt2.backbone import GPT2Backbone
from zoo.text.gpt2.causal_lm import GPT2CausalLM
from zoo.text.gpt2.preprocessor import GPT2Preprocessor
from zoo.text.huggingface import register_preprocessor_converter
from zoo.text.roberta.convert import byte_pair_tokenizer


def gpt2_arguments(config: dict) -> dict:
    """`GPT2Backbone` arguments of a Hugging Face `GPT2Config`, rejecting what it does not do."""
    check_config(config, "activation_function", "gelu_new")
    check_config(config, "scale_attn_weights", True)
    check_config(config, "scale_attn_by_inverse_layer_idx", False)
    check_config(config, "reorder_and_upcast_attn", False)
    check_config(config, "add_cross_attention", False)
    hidden = config["n_embd"]
    return {
        "vocabulary_size": config["vocab_size"],
        "num_layers": config["n_layer"],
        "num_heads": config["n_head"],
        "hidden_dim": hidden,
        "intermediate_dim": config.get("n_inner") or 4 * hidden,
        "dropout": config.get("resid_pdrop", 0.1),
        "max_sequence_length": config["n_positions"],
        "layer_norm_epsilon": config.get("layer_norm_epsilon", 1e-5),
    }


def load_gpt2_weights(loader: WeightLoader, model: GPT2Backbone) -> None:
    """Copies `wte`, `wpe`, every `h.{i}` block and `ln_f` into `model` (shapes checked).

    GPT-2's `Conv1D` weights are stored `[in, out]`, the layout of a Keras `Dense` kernel.
    """
    loader.embedding(model.token_embedding, "wte.weight")
    loader.embedding(model.position_embedding, "wpe.weight")
    for i, block in enumerate(model.blocks):
        prefix = f"h.{i}"
        loader.layer_norm(block.ln_1, f"{prefix}.ln_1")
        loader.layer_norm(block.ln_2, f"{prefix}.ln_2")
        for layer, name in [
            (block.c_attn, "attn.c_attn"),
            (block.attn_proj, "attn.c_proj"),
            (block.c_fc, "mlp.c_fc"),
            (block.mlp_proj, "mlp.c_proj"),
        ]:
            full = f"{prefix}.{name}"
            loader.assign(layer.kernel, loader.get(f"{full}.weight"), f"{full}.weight")
            loader.assign(layer.bias, loader.get(f"{full}.bias"), f"{full}.bias")
    loader.layer_norm(model.get_layer("layer_norm"), "ln_f")


@register_converter("gpt2", tasks=("backbone", "causal_lm"))
def gpt2_from_huggingface(config: dict, weights: dict, directory: str, task: str = "backbone"):
    """Builds a `GPT2Backbone` (or, with `task="causal_lm"`, a `GPT2CausalLM` whose end token
    is the config's `eos_token_id`) from a Hugging Face GPT-2 checkpoint.

    `GPT2LMHeadModel` checkpoints (names prefixed with `transformer.`) and bare `GPT2Model`
    ones both load; the output layer is the token table (tied), as in the published models.
    The causal LM gets a `GPT2Preprocessor` when the directory holds the BPE vocabulary.

    Example:

    ```python
    lm = zoo.from_huggingface("checkpoints/gpt2", task="causal_lm")
    ```
    """
    loader = WeightLoader(weights, prefixes=("transformer.",), directory=directory)
    backbone = GPT2Backbone(**gpt2_arguments(config), name="backbone")
    load_gpt2_weights(loader, backbone)
    if task == "backbone":
        return backbone
    try:
        preprocessor = GPT2Preprocessor(byte_pair_tokenizer(directory), config["n_positions"])
    except (FileNotFoundError, ValueError):
        preprocessor = None
    return GPT2CausalLM(backbone, preprocessor, end_token_id=config.get("eos_token_id"))


@register_preprocessor_converter("gpt2")
def gpt2_preprocessor_from_huggingface(directory: str, sequence_length: int) -> GPT2Preprocessor:
    """A `GPT2Preprocessor` over the checkpoint's byte-level BPE vocabulary."""
    return GPT2Preprocessor(byte_pair_tokenizer(directory), sequence_length)
