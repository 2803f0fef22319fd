"""Hidden Markov models: the aggregated-kinetics HMM, the supervised baseline, their tools."""

from ._aggregated import AggregatedHMM
from ._classifier import HMMClassifier
from ._forward_backward import forward_backward
from ._viterbi import viterbi

__all__ = ["AggregatedHMM", "HMMClassifier", "forward_backward", "viterbi"]
