"""Text generation shared by the zoo's language models: samplers, the cached loop, export.

`generate_ids(step_fn, state, token_ids, start_index, sampler=...)` runs a model's one-token
step (with its key/value cache) in one `tf.while_loop` (compile it inside a `tf.function`, XLA
where it helps); `get_sampler` names the samplers (greedy, random with temperature, top-k,
top-p, beam search); `generate_signature` builds the strings-in, strings-out `tf.function` that
`serving.export` puts in a SavedModel as its `generate` signature.
"""

from zoo.text.generation.compiled import (
    GenerateFunctions,
    compile_generate_graph,
    generation_options,
)
from zoo.text.generation.loop import generate_ids, seed_tensor
from zoo.text.generation.samplers import (
    SAMPLERS,
    BeamSampler,
    GreedySampler,
    RandomSampler,
    Sampler,
    TopKSampler,
    TopPSampler,
    get_sampler,
)
from zoo.text.generation.signature import generate_signature

__all__ = [
    "SAMPLERS",
    "BeamSampler",
    "GenerateFunctions",
    "GreedySampler",
    "RandomSampler",
    "Sampler",
    "TopKSampler",
    "TopPSampler",
    "compile_generate_graph",
    "generate_ids",
    "generate_signature",
    "generation_options",
    "get_sampler",
    "seed_tensor",
]
