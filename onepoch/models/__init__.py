"""Models: the paper's Embedding & MLP, and logistic regression."""
from onepoch.models.dice import Dice
from onepoch.models.embedding_mlp import EmbeddingMLP
from onepoch.models.fields import FieldEmbedding, FieldLayout
from onepoch.models.logistic import LogisticRegression


def build_model(config, vocab_size: int, layout: FieldLayout):
    """The model a RunConfig asks for."""
    if config.model == "lr":
        return LogisticRegression(vocab_size, layout, config.emb_init, config.emb_init_std)
    return EmbeddingMLP(
        vocab_size,
        layout,
        emb_dim=config.emb_dim,
        hidden=config.hidden,
        activation=config.activation,
        dropout=config.dropout,
        emb_init=config.emb_init,
        emb_init_std=config.emb_init_std,
    )


__all__ = ["Dice", "EmbeddingMLP", "FieldEmbedding", "FieldLayout", "LogisticRegression", "build_model"]
