"""The same model (Embedding & MLP, emb 8, 200-80-1 with Dice, one shared
table, mean-pooled histories, dense Adam at lr 1e-3) in DeepCTR-Torch and
FuxiCTR, called the way their documentation shows. Benchmark-only: neither
library is a dependency of onepoch (`pip install -r benchmarks/requirements.txt`).
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import time

import numpy as np
import torch

from common import FIELDS, HIST, SINGLE


def _arrays(split: dict) -> dict[str, np.ndarray]:
    return {f: split[f].numpy() for f in FIELDS}


def deepctr_fit(train: dict, vocab: int, batch_size: int, seed: int = 0) -> float:
    """DeepCTR-Torch: feature columns sharing one table ("ids"), a WDL model
    with no linear columns (= Embedding & MLP), `compile("adam", ...)` and
    `fit` on a dict of numpy arrays. Returns the seconds of `fit`.

    Kind to the library: no metrics during fit (DeepCTR computes them with
    scikit-learn on every batch), no L2 terms (the paper has none), no
    validation, verbose 0.
    """
    from deepctr_torch.inputs import SparseFeat, VarLenSparseFeat
    from deepctr_torch.models import WDL

    torch.manual_seed(seed)
    L = train[HIST[0]].shape[1]
    columns = [SparseFeat(f, vocab, embedding_dim=8, embedding_name="ids") for f in SINGLE]
    columns += [VarLenSparseFeat(SparseFeat(f, vocab, embedding_dim=8, embedding_name="ids"), maxlen=L,
                                 combiner="mean") for f in HIST]
    with contextlib.redirect_stdout(io.StringIO()):
        model = WDL([], columns, dnn_hidden_units=(200, 80), dnn_activation="dice", l2_reg_linear=0.0,
                    l2_reg_embedding=0.0, l2_reg_dnn=0.0, seed=seed, device="cpu")
    # WDL's DNN builds Dice for 3-d inputs (dice_dim=3, as in DIN's attention);
    # its hidden layers get 2-d ones, so swap in DeepCTR's own Dice with dim=2.
    from deepctr_torch.layers.activation import Dice

    model.dnn.activation_layers = torch.nn.ModuleList([Dice(u, dim=2) for u in (200, 80)])
    model.compile("adam", "binary_crossentropy")
    x, y = _arrays(train), train["label"].numpy()
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # it prints the device and sample counts
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)
    return time.perf_counter() - start


def _fuxictr_model(feature_map, **kwargs):
    from fuxictr.pytorch.layers import FeatureEmbedding, MLP_Block
    from fuxictr.pytorch.models import BaseModel

    class DNN(BaseModel):
        """FuxiCTR's model_zoo DNN (Embedding & MLP), as published in its repository."""

        def __init__(self, feature_map, model_id="DNN", gpu=-1, learning_rate=1e-3, embedding_dim=8,
                     hidden_units=(200, 80), hidden_activations="Dice", **kw):
            super().__init__(feature_map, model_id=model_id, gpu=gpu, **kw)
            self.embedding_layer = FeatureEmbedding(feature_map, embedding_dim)
            self.mlp = MLP_Block(input_dim=feature_map.sum_emb_out_dim(), output_dim=1,
                                 hidden_units=list(hidden_units), hidden_activations=hidden_activations,
                                 output_activation=self.output_activation)
            self.compile(kw["optimizer"], kw["loss"], learning_rate)
            self.reset_parameters()
            self.model_to_device()

        def forward(self, inputs):
            X = self.get_inputs(inputs)
            feature_emb = self.embedding_layer(X, flatten_emb=True)
            return {"y_pred": self.mlp(feature_emb)}

    return DNN(feature_map, **kwargs)


def fuxictr_fit(train: dict, valid: dict, vocab: int, batch_size: int, seed: int = 0,
                eval_steps: int | None = None) -> float:
    """FuxiCTR: a FeatureMap with one shared table (padding id 0, histories
    as sequence features with MaskedAveragePooling), its model_zoo DNN,
    in-memory NPZ data loaders with no worker processes, `fit` for one epoch.
    It evaluates `valid` (AUC, log loss) every `eval_steps` steps, or once at
    the epoch's end when None, and checkpoints on improvement; early stopping
    and learning-rate reduction are off. Returns the seconds of `fit`."""
    from fuxictr.features import FeatureMap
    from fuxictr.pytorch.dataloaders.npz_dataloader import NpzDataLoader

    logging.getLogger().setLevel(logging.WARNING)
    torch.manual_seed(seed)
    L = train[HIST[0]].shape[1]
    with tempfile.TemporaryDirectory() as tmp:
        fmap = FeatureMap("bench", tmp)
        for i, f in enumerate(FIELDS):
            spec = {"source": "", "type": "categorical", "vocab_size": vocab, "padding_idx": 0}
            if f in HIST:
                spec.update(type="sequence", max_len=L, feature_encoder="layers.MaskedAveragePooling()")
            if i > 0:
                spec["share_embedding"] = FIELDS[0]
            fmap.features[f] = spec
        fmap.labels = ["label"]
        fmap.default_emb_dim = 8
        fmap.num_fields = fmap.get_num_fields()
        fmap.set_column_index()
        paths = {}
        for name, split in (("train", train), ("valid", valid)):
            paths[name] = os.path.join(tmp, f"{name}.npz")
            np.savez(paths[name], **_arrays(split), label=split["label"].numpy())
        os.makedirs(os.path.join(tmp, fmap.dataset_id), exist_ok=True)
        model = _fuxictr_model(fmap, optimizer="adam", loss="binary_crossentropy", verbose=0, model_root=tmp,
                               metrics=["logloss", "AUC"], monitor="AUC", embedding_regularizer=None,
                               net_regularizer=None, reduce_lr_on_plateau=False, eval_steps=eval_steps,
                               early_stop_patience=10**9)
        train_gen = NpzDataLoader(fmap, paths["train"], batch_size=batch_size, shuffle=True, num_workers=0)
        valid_gen = NpzDataLoader(fmap, paths["valid"], batch_size=4096, shuffle=False, num_workers=0)
        start = time.perf_counter()
        model.fit(train_gen, epochs=1, validation_data=valid_gen)
        return time.perf_counter() - start
