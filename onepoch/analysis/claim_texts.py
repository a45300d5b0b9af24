"""What the paper claims (C1-C15) and claims it implies (C3b, C7b, C8b, C10b, C16a-d), as the ledger quotes them.

Text only: the rules that judge them are in `onepoch.analysis.rules`, the
measurements and verdicts in `onepoch.analysis.claims`.
"""

CLAIMS = {
    "C1": "Deep CTR models' test AUC falls sharply at the start of epoch 2, on several data sets (Figs. 2-4).",
    "C2": "Best performance is reached after one epoch; more epochs do not beat it.",
    "C3": "Logistic regression does not show the phenomenon (Fig. 6).",
    "C4": "The number of parameters (embedding dim, width, depth) has no clear effect; even embedding dim 1 drops (Fig. 5).",
    "C5": "Activation function has almost no influence (Fig. 7b).",
    "C6": "Batch size does not help (Fig. 7a).",
    "C7": "Adam/RMSprop and large learning rates bring the drop; SGD and tiny learning rates avoid it at a cost in AUC (Fig. 8).",
    "C8": "Weight decay and dropout neither help AUC nor remove the drop (Fig. 9).",
    "C9": "IDs are long-tailed: the bottom 50% of IDs carry ~2.5% of occurrences (Fig. 10).",
    "C10": "Reducing sparsity by filter or hash weakens the drop and lowers AUC (Fig. 11).",
    "C11": "Without the fine-grained fields (item ID, history item IDs) there is no drop, but AUC is worse (Fig. 12).",
    "C12": "A-distance between EMB(x)|y=0 and |y=1 jumps on training data at epoch 2, flat on test (Figs. 14-15).",
    "C13": "The MLP's per-step parameter change jumps at epoch 2; the embedding's does not (Fig. 16).",
    "C14": "Fine-tuning only the MLP after epoch 1 drops; freezing the MLP avoids the drop (Fig. 17).",
    "C15": "The drop repeats at the start of every epoch (Sec. 5.3, 'each-epoch phenomenon').",
    # Beyond the paper: claims it implies or that follow-up work makes, tested by the later chapters.
    "C7b": "(Implied by Sec. 4.1) The drop comes with a fast optimizer as such, not with dense Adam moving every "
           "embedding row at every step (the original code's TF1 Adam): lazy (sparse) Adam on the embeddings drops too.",
    "C8b": "(Extends Fig. 9) Regularising the embeddings -- L2 on the table, frequency-aware decay (AdamAR's idea) -- "
           "neither removes the drop nor lets more epochs beat one epoch.",
    "C10b": "(Fig. 11, on synthetic data with a known click model) The drop appears at realistic sparsity and "
            "vanishes at low sparsity.",
    "C3b": "(Sec. 5, structural) The phenomenon comes from the MLP: models that keep the embeddings but have "
           "no MLP (factorization machine, logistic regression) show no drop at the start of epoch 2 on data "
           "where the models with an MLP do.",
    # The causal controls (chapter causal_controls): what the drop is *not* caused by, and what it needs.
    "C16a": "(Implied by Sec. 5) The drop is not caused by Dice's running statistics shifting at the boundary: "
            "with them frozen at the end of epoch 1 it stays.",
    "C16b": "(Implied by Sec. 5) The drop is not caused by Adam's moments carried over the boundary: with the "
            "optimizer reset at each boundary it stays.",
    "C16c": "(Implied by Sec. 5) The drop needs samples seen before: a second pass over the same samples drops, "
            "one over fresh samples does not.",
    "C16d": "(Implied by Sec. 5) The drop is not caused by reshuffling: with the same order every epoch it stays.",
}
