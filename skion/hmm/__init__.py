"""Hidden Markov models: the supervised Gaussian HMM baseline and its inference tools."""

from ._classifier import HMMClassifier
from ._forward_backward import forward_backward
from ._viterbi import viterbi

__all__ = ["HMMClassifier", "forward_backward", "viterbi"]
