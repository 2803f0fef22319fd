"""Units of a recorded channel: currents to pA, conductances to pS, anything else refused."""

from __future__ import annotations

__all__ = ["to_skion_units"]

_PREFIXES = {"f": 1e-3, "p": 1.0, "n": 1e3, "u": 1e6, "µ": 1e6, "μ": 1e6, "m": 1e9, "": 1e12}

#: The unit skion works in, keyed by the base letter: currents in pA, conductances in pS.
_SKION_UNITS = {"A": "pA", "S": "pS"}

_VOLTAGE = "V"


def to_skion_units(unit, where):
    """``(factor, units)``: multiply values in ``unit`` by ``factor`` to get ``units``.

    Currents (fA ... A) become pA and conductances (fS ... S) pS; a voltage or an unknown
    unit raises a ValueError that starts with ``where`` (the file and channel).

    >>> to_skion_units("nA", "rec.abf"), to_skion_units("pS", "rec.csv")
    ((1000.0, 'pA'), (1.0, 'pS'))
    """
    text = str(unit).strip()
    prefix, base = text[:-1], text[-1:]
    if base in _SKION_UNITS and prefix in _PREFIXES:
        return _PREFIXES[prefix], _SKION_UNITS[base]
    if base == _VOLTAGE and prefix in _PREFIXES:
        raise ValueError(
            f"{where} is in {text}, a voltage: skion idealizes a single-channel current "
            "(pA, nA, ...) or conductance (pS, ...)."
        )
    raise ValueError(
        f"{where} has the unit {text!r}, which is neither a current (fA, pA, nA, uA, mA, A) "
        "nor a conductance (fS, pS, nS, uS, mS, S)."
    )
