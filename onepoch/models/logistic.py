"""Logistic regression on the same fields (paper Fig. 6).

Each id gets one weight (an embedding of dimension 1 in the shared table);
history fields are mean-pooled like the DNN's; the logit is the sum of the
field values plus a bias. It has about as many parameters as the DNN with
embedding dimension 1, but no hidden layer.
"""
import torch
from torch import nn

from onepoch.models.fields import FieldEmbedding, FieldLayout


class LogisticRegression(nn.Module):
    def __init__(self, vocab_size: int, layout: FieldLayout, emb_init: str = "glorot", emb_init_std: float = 0.01):
        super().__init__()
        self.embedding = FieldEmbedding(vocab_size, 1, layout, emb_init, emb_init_std)
        self.bias = nn.Parameter(torch.zeros(()))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(ids).sum(dim=(1, 2)) + self.bias

    def embedding_parameters(self):
        return list(self.embedding.parameters())

    def mlp_parameters(self):
        return [self.bias]
