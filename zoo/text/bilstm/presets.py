"""Named BiLSTM tagger configurations, registered in the zoo."""

from __future__ import annotations

from zoo.registry import register
from zoo.text.bilstm.backbone import BiLSTMBackbone
from zoo.text.bilstm.tagger import BiLSTMTagger
from zoo.text.inputs import token_inputs
from zoo.text.tagging_data import TAG_NAMES, VOCABULARY

# Lample et al. 2016: 100-d word embeddings, 100 LSTM units each way, dropout 0.5; the CoNLL
# 2003 tag set (BIO over four entity types) has 9 tags.
BILSTM_LAMPLE = dict(vocabulary_size=20000, embedding_dim=100, hidden_dim=100, dropout=0.5)
# Small enough to train on the generated task (`zoo.text.tagging_data`) in seconds on a CPU.
BILSTM_ENTITIES = dict(
    vocabulary_size=len(VOCABULARY), embedding_dim=16, hidden_dim=16, num_classes=len(TAG_NAMES)
)

# Two layers and dropout reach every path of the backbone (the dropout between layers).
_TINY = dict(vocabulary_size=50, embedding_dim=8, hidden_dim=4, num_layers=2, num_classes=5)


def bilstm_search_space(hp) -> dict:
    """Embedding width, LSTM width and depth, and dropout of `BiLSTMTagger`."""
    return {
        "embedding_dim": hp.Choice("embedding_dim", [32, 64, 100]),
        "hidden_dim": hp.Choice("hidden_dim", [32, 64, 128]),
        "num_layers": hp.Int("num_layers", 1, 2),
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.25),
    }


register(
    "bilstm_backbone",
    BiLSTMBackbone,
    family="bilstm",
    task="backbone",
    description="BiLSTM encoder (Lample et al. 2016): 100-d embeddings, 100 units each way.",
    tiny={k: v for k, v in _TINY.items() if k != "num_classes"},
    example_inputs=token_inputs,
    **{k: v for k, v in BILSTM_LAMPLE.items() if k != "dropout"},
)

register(
    "bilstm_tagger",
    BiLSTMTagger,
    family="bilstm",
    task="token_classifier",
    description="BiLSTM tagger (Lample et al. 2016), 9 tags; head='crf' for the BiLSTM-CRF.",
    tiny={**_TINY, "dropout": 0.1},
    example_inputs=token_inputs,
    search_space=bilstm_search_space,
    num_classes=9,
    **BILSTM_LAMPLE,
)

register(
    "bilstm_tagger_entities",
    BiLSTMTagger,
    family="bilstm",
    task="token_classifier",
    description="Small BiLSTM tagger for the generated entity task (zoo.text.tagging_data).",
    tiny=_TINY,
    example_inputs=token_inputs,
    search_space=bilstm_search_space,
    **BILSTM_ENTITIES,
)
