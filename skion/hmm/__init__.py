"""Hidden Markov model tools: forward-backward posteriors."""

from ._forward_backward import forward_backward

__all__ = ["forward_backward"]
