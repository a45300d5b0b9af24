"""Probes of Sec. 5: measurements taken during training through callbacks."""
from onepoch.probes.a_distance import ADistanceProbe, a_distance
from onepoch.probes.param_change import ParamChangeProbe

__all__ = ["ADistanceProbe", "ParamChangeProbe", "a_distance"]
