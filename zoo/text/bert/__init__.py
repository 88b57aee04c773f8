"""BERT, RoBERTa, ALBERT and DistilBERT: one encoder family."""
