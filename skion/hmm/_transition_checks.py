"""The posterior's transitions against those the fitted chain makes from the same states:
do the fitted channels open and close independently, on their own lattice?

**Jumps of several levels at once.** The aggregated model's channels gate
independently, so jumps of two or more levels within one sample need two channels to
move in the same sampling interval, which the fitted rates make rare (and predict).
Where the fit has read the current on a lattice finer than the channels' own, every real
opening spans more than one of its levels, and the posterior holds jumps of two or more
more often than the fitted channels could make them: three channels of 1.2 pA under 1/f
noise, fitted as nine or ten of 0.48-0.57 pA, held 2.0-2.7 times the jumps their rates
predict, four fast ones fitted as ten of 0.75 pA 1.2 times (11-12 Poisson sds), where
fits on the right lattice held 0.67-1.39 times (1.13 at most where they made over 100;
never more than 4.1 sds above).

**Entries into the edge counts.** From ``k`` open channels the chain enters ``k - 1``
and ``k + 1`` at rates its channels set, whatever the open probability. A count 0 or N
that slow noise alone reaches (an extra level beyond the channels' own) is entered far
less often than that; so is the top count of channels that run down within a recording
(under white noise), and count 0 where that recording is read upside down.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "JUMP_SIZES",
    "deficient_edge",
    "edge_entries",
    "entry_shortfall",
    "excessive_size",
    "joint_jumps",
    "rarely_entered",
    "transition_checks",
]

#: Jumps of at least 2 and at least 3 levels at once (``joint_jumps``), over the number
#: the fitted channels make, above which a fit is on a finer lattice than the channels'
#: own, where they also exceed it by ``_SDS`` Poisson sds and ``_MIN`` jumps. On 106
#: fits on the channels' own lattice (60 random grid cells at seeds 3000 and 7000, the
#: 12 filtered recordings, the demo's 8, the colored-noise rows and 1/f draws) jumps of
#: two or more exceeded the channels' by at most 4.1 sds (the demo's filtered bursting
#: rig, 1.19 times; 2.1 elsewhere), ratios up to 1.39 (1.13 where the channels made over
#: 100); jumps of three or more by at most 2.1 sds. On the 11 fits on a finer lattice
#: (1/f and AR(1) noise read as openings of smaller channels) jumps of two or more
#: exceeded them by 11-83 sds, 1.21-4.6 times; of three or more 1.8-6.1 times on the
#: nine 1/f fits (four fast channels read as ten of 0.75 pA: 1.21 and 1.8 times, 11 and
#: 10 sds). At 30,000 rows the same four channels, read as 8-10 of 0.76 pA, exceeded them
#: by 6.2-6.5 sds (1.22 times) and 4.9-5.9 sds (1.8 times): 4 sds for jumps of three or
#: more (where the ratio and the 30 jumps then bind) catch them.
_LIMITS = {2: 1.5, 3: 1.6}
_SDS = {2: 6.0, 3: 4.0}
_MIN = 30.0
#: The jump sizes checked, smallest first.
JUMP_SIZES = tuple(sorted(_LIMITS))
#: Entries into an edge count (0 or N) under this fraction of the chain's, by more than
#: ``_EDGE_SDS`` Poisson sds and ``_EDGE_MIN`` entries, make the count an extra level
#: (see ``deficient_edge``; the numbers there).
_EDGE_LIMIT = 0.5
_EDGE_SDS = 3.0
_EDGE_MIN = 10.0


def joint_jumps(xi, transition, level, size=2):
    """``(seen, expected)``: jumps of ``size`` or more levels in one sample, in the
    posterior and as the fitted chain makes them from the same states.

    Parameters
    ----------
    xi : ndarray of shape (n_states, n_states)
        Expected transitions between the aggregated states, summed over the rows (the
        E-step's).
    transition : ndarray of shape (n_states, n_states)
        The fitted chain's per-sample transition matrix.
    level : ndarray of shape (n_states,)
        Open channels of every aggregated state.
    size : int, default=2
        Fewest levels a jump counted spans.

    Returns
    -------
    seen : float
        Expected jumps of ``size`` or more levels under the posterior.
    expected : float
        The number the chain makes from the posterior's occupancy of its states.
    """
    return _moves(xi, transition, np.abs(level[:, None] - level[None, :]) >= size)


def _moves(xi, transition, moves):
    """``(seen, expected)``: the posterior's transitions between the states that
    ``moves`` (a boolean matrix) marks, and the chain's from the same occupancy."""
    occupancy = xi.sum(axis=1)
    return float(xi[moves].sum()), float(occupancy @ (transition * moves).sum(axis=1))


def edge_entries(xi, transition, level):
    """``{"below": (seen, expected), "above": ...}``: entries into the chain's lowest
    count (0) from count 1, and into its highest from the one under it, in the posterior
    and as the chain makes them from the same occupancy (arguments as ``joint_jumps``)."""
    top = int(level.max())
    return {
        side: _moves(xi, transition, (level[:, None] == start) & (level[None, :] == end))
        for side, start, end in (("below", 1, 0), ("above", top - 1, top))
    }


def transition_checks(xi, params):
    """``(jumps, entries)`` of a fit (``_Params``) from its E-step's expected transitions
    ``xi``: ``{size: joint_jumps(...)}`` for every size in ``JUMP_SIZES``, and its
    ``edge_entries``."""
    chain = params.chain
    transition = chain.transition(params.rates, params.dt)
    jumps = {size: joint_jumps(xi, transition, chain.level, size) for size in JUMP_SIZES}
    return jumps, edge_entries(xi, transition, chain.level)


def excessive_size(jumps):
    """The smallest size whose jumps (``{size: (seen, expected)}``) exceed the fitted
    channels' by more than its limit times, ``_SDS`` Poisson sds and ``_MIN`` jumps
    (slow channels make a few, and one more doubles their ratio); ``None`` if none."""
    for size, (seen, expected) in sorted(jumps.items()):
        excess = seen - expected
        if seen > _LIMITS[size] * expected and excess > max(_SDS[size] * np.sqrt(expected), _MIN):
            return size
    return None


def deficient_edge(entries):
    """The side (``"below"``, ``"above"``) whose count the posterior enters least often
    for the chain's entries (``entries``, ``edge_entries``'s), where it enters under
    ``_EDGE_LIMIT`` of them by more than ``_EDGE_SDS`` Poisson sds and ``_EDGE_MIN``
    entries; ``None`` if neither does.

    Under 1/f noise (0.3 step) 3 channels of 1.2 pA were fitted as 4 on 4 of 10 draws
    of 30,000 rows, the extra count entered 12-26 times where the chain would enter it
    30-113 times (under 0.4 of it, 3.3-8.2 sds); on the right count the edges held
    0.84-1.07 of the chain's entries.
    """
    found = None
    for side, (seen, expected) in entries.items():
        if rarely_entered(seen, expected) and (found is None or seen / expected < found[1]):
            found = (side, seen / expected)
    return None if found is None else found[0]


def rarely_entered(seen, expected):
    """Whether ``seen`` entries are under ``_EDGE_LIMIT`` of the chain's ``expected``, by
    more than ``_EDGE_SDS`` Poisson sds and ``_EDGE_MIN`` entries (``deficient_edge``'s
    test of one side)."""
    short = expected - seen
    return bool(
        seen < _EDGE_LIMIT * expected and short > max(_EDGE_SDS * np.sqrt(expected), _EDGE_MIN)
    )


def entry_shortfall(seen, expected):
    """Nats by which ``seen`` entries are likelier under a Poisson law of their own mean
    than under one of mean ``expected`` (the chain's), where ``seen`` is the fewer; 0
    where there are as many or more.

    Examples
    --------
    >>> round(entry_shortfall(26.0, 133.0), 1)
    64.6
    >>> entry_shortfall(140.0, 133.0)
    0.0
    """
    if not seen < expected:
        return 0.0
    return float(seen * np.log(seen / expected) - seen + expected) if seen > 0 else float(expected)
