"""BiLSTM taggers (Lample et al. 2016): backbone, tagger (softmax or CRF head) and presets."""

from zoo.text.bilstm import presets
from zoo.text.bilstm.backbone import BiLSTMBackbone
from zoo.text.bilstm.tagger import BiLSTMTagger

__all__ = ["BiLSTMBackbone", "BiLSTMTagger", "presets"]
