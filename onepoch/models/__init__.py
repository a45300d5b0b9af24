"""Models: the paper's Embedding & MLP, logistic regression, and the CTR
architectures of the architectures chapter, in a registry.

Every model reads the same packed fields through one shared embedding table
(`FieldEmbedding`, masked mean pooling), returns logits, and exposes
`embedding_parameters()` / `mlp_parameters()` for fine-tuning.
"""
from onepoch.models import dcnv2, deepfm, din, fm
from onepoch.models.dice import Dice
from onepoch.models.embedding_mlp import EmbeddingMLP
from onepoch.models.fields import FieldEmbedding, FieldLayout
from onepoch.models.layers import paper_settings, parameter_counts
from onepoch.models.logistic import LogisticRegression


def _dnn(config, vocab_size: int, layout: FieldLayout) -> EmbeddingMLP:
    return EmbeddingMLP(vocab_size, layout, **paper_settings(config))


def _lr(config, vocab_size: int, layout: FieldLayout) -> LogisticRegression:
    return LogisticRegression(vocab_size, layout, config.emb_init, config.emb_init_std)


# name (RunConfig.model) -> builder(config, vocab_size, layout)
ARCHITECTURES = {"dnn": _dnn, "lr": _lr, "fm": fm.build, "deepfm": deepfm.build, "dcnv2": dcnv2.build,
                 "din": din.build}
HAS_MLP = {"dnn": True, "lr": False, "fm": False, "deepfm": True, "dcnv2": True, "din": True}


def build_model(config, vocab_size: int, layout: FieldLayout):
    """The model a RunConfig asks for."""
    return ARCHITECTURES[config.model](config, vocab_size, layout)


__all__ = ["ARCHITECTURES", "Dice", "EmbeddingMLP", "FieldEmbedding", "FieldLayout", "HAS_MLP",
           "LogisticRegression", "build_model", "parameter_counts"]
