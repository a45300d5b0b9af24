"""Training: optimizers, the loop with the paper's evaluation cadence, evaluation."""
from onepoch.train.optim import make_optimizer
from onepoch.train.callbacks import Callback
from onepoch.train.state import TrainState
from onepoch.train.trainer import TrainingDiverged, fit

__all__ = ["Callback", "TrainState", "TrainingDiverged", "fit", "make_optimizer"]
