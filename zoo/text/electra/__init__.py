"""ELECTRA (Clark et al. 2020): backbone, discriminator, the replaced-token-detection pretrainer
and its corpus loop, presets and Hugging Face import. `zoo.text.BertClassifier` and
`BertTokenClassifier` fine-tune the discriminator's backbone."""

from zoo.text.electra import convert, presets
from zoo.text.electra.backbone import ElectraBackbone
from zoo.text.electra.discriminator import ElectraDiscriminator
from zoo.text.electra.pretrainer import ElectraPretrainer
from zoo.text.electra.pretraining import pretrain_electra, special_token_ids

__all__ = [
    "ElectraBackbone",
    "ElectraDiscriminator",
    "ElectraPretrainer",
    "convert",
    "pretrain_electra",
    "presets",
    "special_token_ids",
]
