"""The amplifier's low-pass filter: find its cut-off in a recording and undo it.

Patch-clamp amplifiers low-pass filter the current (usually a 4-pole Bessel filter at a
fifth to a tenth of the sampling rate) before it is digitized. The filter makes the noise
correlated and rounds every transition, and a model with white noise then reads the slow
wander of the filtered noise and the rounded edges as extra levels: three channels at
2 kHz (10 kHz sampling) were calibrated on a lattice of 12 levels. Undoing the filter
(a Wiener inverse, regularized where the filter's gain falls below ``sqrt(_WIENER)``)
restores sharp transitions and nearly white noise, on which the lattice shows.

The cut-off is read from the spectrum of the first differences of the current: there the
white noise is ``a * 4 sin^2(pi f / fs)``, the channels' steps are flat (sparse spikes)
above the corner frequency of their own Lorentzian spectrum and rise as ``f^2`` below it,
and all of it is shaped by the filter's ``|H(f)|^2``. The cut-off (a grid of 60 from 1 %
to 45 % of the sampling rate, or none) and corner (6 from 0.2 % to 10 %) whose shape fits
best, by relative least squares, are taken.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import bessel, oaconvolve, sosfreqz, welch

__all__ = ["bessel_sos", "decimation", "estimate_filter_cutoff", "undo_filter"]

#: Cut-offs at or above this fraction of the sampling rate are not undone: the filter
#: barely touches the noise there, and its estimate is least certain.
UNDO_BELOW = 0.25
#: The inverse restores the band up to about this fraction of the sampling rate; a
#: filter below it leaves correlated noise, so the model keeps every k-th sample only.
WHITE_BAND = 0.15
#: Wiener regularization (power): gains below about sqrt of it are not restored.
_WIENER = 1e-3
#: Welch segment length of the spectrum estimate.
_SEGMENT = 1024
#: Largest mean squared relative misfit of the spectrum's shape: beyond it the spectrum
#: is not a Bessel filter's (measured: 0.08-0.2 for filtered and unfiltered simulations,
#: 0.87 after resampling 5 to 10 kHz, whose filter is a brick wall), and nothing is undone.
_MAX_MISFIT = 0.5
#: Corner frequencies (fractions of the sampling rate) of the channels' spectrum tried.
_CORNERS = np.geomspace(0.002, 0.1, 6)
#: Rows used for the estimate.
_ESTIMATE_ROWS = 1_000_000


def bessel_sos(cutoff, sampling_rate):
    """The amplifier's filter: a 4-pole Bessel low-pass, -3 dB at ``cutoff`` Hz, as
    second-order sections (what ``make_patch_clamp`` applies and this module undoes)."""
    return bessel(4, cutoff, btype="low", norm="mag", output="sos", fs=sampling_rate)


def _bessel_response(cutoff, freqs, sampling_rate):
    """Complex response ``H(f)`` of :func:`bessel_sos` at ``freqs`` (Hz)."""
    return sosfreqz(bessel_sos(cutoff, sampling_rate), worN=freqs, fs=sampling_rate)[1]


def estimate_filter_cutoff(x, sampling_rate):
    """-3 dB frequency (Hz) of the 4-pole Bessel filter that best explains ``x``, or
    ``None`` when the recording looks unfiltered, its spectrum is not shaped like a
    Bessel filter's (e.g. resampled), or it is too short to tell.

    Measured on 24 ``make_patch_clamp`` recordings (1-10 channels, four schemes, 5-50 kHz,
    cut-offs 3-30 % of the rate, drift and hum): the unfiltered ones read as unfiltered,
    the filtered within 4 % of the true cut-off but for two at 14-16 % below.
    """
    x = np.asarray(x, dtype=np.float64)[:_ESTIMATE_ROWS]
    if len(x) < 4 * 256:
        return None
    freqs, power = welch(np.diff(x), fs=sampling_rate, nperseg=min(_SEGMENT, len(x) // 4))
    keep = (freqs > 0) & (power > 0)
    freqs, power = freqs[keep], power[keep]
    if len(freqs) < 8:
        return None
    white = 4.0 * np.sin(np.pi * freqs / sampling_rate) ** 2
    # the channels' own (Lorentzian) spectrum, differenced: rising as f^2 below its corner
    gating = [freqs**2 / (freqs**2 + corner**2) for corner in _CORNERS * sampling_rate]
    best_residual, best = np.inf, None
    for cutoff in [None, *np.geomspace(0.01, 0.45, 60) * sampling_rate]:
        response = 1.0 if cutoff is None else _bessel_response(cutoff, freqs, sampling_rate)
        gain2 = np.abs(response) ** 2
        for shape in gating:
            design = (
                np.stack([white, np.ones_like(freqs), shape], axis=1) * (gain2 / power)[:, None]
            )
            coef, *_ = np.linalg.lstsq(design, np.ones_like(freqs), rcond=None)
            residual = float(np.mean((design @ np.clip(coef, 0.0, None) - 1.0) ** 2))
            if residual < best_residual:
                best_residual, best = residual, cutoff
    if best is None or best_residual > _MAX_MISFIT:
        return None
    return float(best)


def decimation(cutoff, sampling_rate, highest_hum=None):
    """Keep every k-th sample of a recording undone from a filter at ``cutoff`` Hz: 1 down
    to ``WHITE_BAND`` of the sampling rate, then enough that the kept samples are about
    ``1 / (WHITE_BAND * sampling_rate)`` apart (2 at a tenth, 3 at a twentieth), but no
    more than keeps ``highest_hum`` (Hz, the hum's top harmonic) below the kept samples'
    Nyquist frequency, with a 10 % margin.

    Undone with a bounded gain, a filter at a tenth of the sampling rate still left
    noise correlated enough from sample to sample that the lattice search found 12 levels
    for 3 channels; every second or third sample of it gave the right 3 (F1 0.94).
    """
    if cutoff is None:
        return 1
    k = int(np.ceil(WHITE_BAND * sampling_rate / cutoff - 1e-9))
    if highest_hum is not None:
        k = min(k, int(sampling_rate / (2.2 * highest_hum)))
    return max(1, k)


def undo_filter(x, cutoff, sampling_rate):
    """``x`` with the 4-pole Bessel low-pass at ``cutoff`` Hz undone (Wiener inverse).

    Applied as a zero-phase FIR kernel by overlap-add, so memory stays proportional to
    ``len(x)``; the ends are reflected so that they are not read as steps.
    """
    x = np.asarray(x, dtype=np.float64)
    n_fft = int(np.clip(2 ** np.ceil(np.log2(64 * sampling_rate / cutoff)), 256, 2**16))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sampling_rate)
    gain = _bessel_response(cutoff, freqs, sampling_rate)
    inverse = np.conj(gain) / (np.abs(gain) ** 2 + _WIENER)
    # zero lag in the middle of an odd-length kernel, as mode='same' expects
    kernel = np.append(np.fft.fftshift(np.fft.irfft(inverse, n_fft)), 0.0)
    half = min(n_fft // 2, len(x) - 1)
    padded = np.pad(x, half, mode="reflect") if half > 0 else x
    out = oaconvolve(padded, kernel, mode="same")
    return out[half : half + len(x)] if half > 0 else out
