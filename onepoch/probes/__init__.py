"""Probes of Sec. 5 and beyond: measurements taken during training through callbacks."""
from onepoch.probes.a_distance import ADistanceProbe, IncomingADistanceProbe, a_distance
from onepoch.probes.abundance import AbundanceProbe, information_abundance
from onepoch.probes.param_change import ParamChangeProbe

__all__ = ["ADistanceProbe", "IncomingADistanceProbe", "AbundanceProbe", "ParamChangeProbe", "a_distance", "information_abundance"]
