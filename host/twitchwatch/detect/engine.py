"""TwitchDetector: the streaming detection engine (EMG + accelerometer).

See docs/detection.md for the method, parameters and limits. In short, per EMG block:

1. band-pass (``band_hz``) -> mains canceller (:mod:`.mains`) -> cleaned signal ``y``;
   side signals: the low band of the raw EMG (``low_band_hz``, slow deflections, steps),
   the hum envelope (what the notches removed), rail flags.
2. adaptive noise floor sigma (:mod:`.floor`); candidates are clusters of
   ``|y| > k * sigma`` (merge gap ``merge_gap_ms``), each ending at its last sample
   >= ``TAIL_FRACTION`` x its peak; the supra-threshold samples after that are its tail
   (filter ringing, after-wave), never a candidate.
3. each closed candidate waits for its EMG context (``POST_CONTEXT_MS`` after the peak)
   and, with an accelerometer, for the accelerometer samples covering its fusion and
   motion windows; then it is classified (lead-off, mains burst, pop, motion, ECG,
   voluntary, filter echo, twitch) in a fixed order, per channel in the order the
   candidates closed.
4. a twitch gets its features (amplitude, duration, phases, polarity, accelerometer
   response, unit id) and a confidence.

Everything is decided from the samples at fixed sample positions, per channel in a
fixed order, so any split of either stream into blocks, and any interleaving of the
two streams, gives the same events and artefact segments.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from .config import DetectorConfig
from .designs import butter_sos
from .ecgrhythm import EcgRhythm
from .blockflags import block_flags, lead_flags, norm3
from .clusters import CLOSE_CLUSTER, STATE_F, STATE_I, scan_block
from .events import TwitchEvent
from .features import GEOMETRY, LEVELS, RING_ROWS, candidate_features, phases_and_lobes
from .floor import AdaptiveFloor, median1
from .mains import MainsCanceller
from .matched import NoiseWhitener, threshold as mf_threshold
from .broadband import BroadbandGate
from .mfdetect import MuapBank
from .onbeat import BeatTemplate
from .peel import peel
from .clarity import smoothed_clarity
from .plausible import impulse_width_ms, main_phase_ms
from .popshape import PopShapes
from .train import fires_in_train
from .records import ArtefactSegment, ChannelQuality
from .streamfilt import Ring, RunTracker, SosState
from .units import UnitBook

DETECTOR_VERSION = "twitchwatch-detect-1.18"  # 1.18: detection in a MUAP's band under poor contact: a bank of Hermite-Rodriguez matched filters, each output over its own robust sigma, thresholds for stated false-alarm rates (:mod:`.mfdetect`), searching only where the raised floor is broad-band electrode noise (Gaussian, steady, >= 6 % of its power above 250 Hz, >= 2 ADC steps: :mod:`.broadband`); 1.17: rule 10c: a candidate starting inside the lookahead window of the channel's previous candidate rejected as a contraction's onset (rule 10), after activity began there, is part of that activity (voluntary); 1.16: rule 10c without the activity-began condition (one test-split run, not landed); 1.15: peel-off: a counted twitch explained as superimposed firings of clear units' templates (whitened matching pursuit, :mod:`.peel`) reports each firing, and a would-be filter echo that a clear unit's template explains is a firing; 1.14: a sustained cluster whose low-band extremum lies on the learned heart rhythm has the beat fitted and subtracted there (a twitch merged with a wide QRS); 1.13: the end of a wide QRS (a step 0-100 ms after the R wave) is the heartbeat, not a pop; clear also by the peak smoothed over 1-4 ms against the equally smoothed noise, on channels whose floor is above good contact (> 5 µV, :mod:`.clarity`); 1.12: a potential whose waveform fired twice before it at a voluntary unit's intervals (40-200 ms) is not counted (:mod:`.train`); rule 5b: a candidate shaped like a band-passed step with exponential recovery (an electrode pop through any front end, :mod:`.popshape`) is a step; 1.11: counted flag (what counts: plausible main phase, clear or known unit or mechanical response), motion band read up to the potential onset; 1.1: ECG rhythm, R-wave timing, one heart; 1.2: weak activity after (onsets), candidate ends at 0.25 x peak (latency); 1.3: motion onset (rule 6b); 1.4: activity on another channel (rule 10b); 1.5: mains estimate uses the floor at its window end (block-split invariance); 1.6: candidate reads clipped to the history held at every split; 1.7: unit identity allows for the noise; 1.8: mains notches gated over large transients (no ringing), gated samples left out of the hum estimate, low band notched too; 1.9: a step that the next candidate shows to be a heartbeat's onset is ECG, not a pop (no hold-off), and recognised beats are left out of the activity before a candidate; faint step (rule 11b): a candidate whose low band steps by >= 0.5x its p-p is a pop even under rule 5's 5 sigma; 1.10: a twitch on a heartbeat (the beat's learned shape fitted and subtracted, :mod:`.onbeat`) is reported when the beat's decision is no later than the twitch's alone; notch sections straight from iirnotch; the cross-channel merge waits only for candidates decided within 15 ms of the twitch's own decision (latency)

#: EMG context needed after a candidate's peak before it is decided (ms): the pop/step
#: test reads the low band up to here. An event is decided once the EMG sample
#: max(peak + POST_CONTEXT_MS, last significant sample + ``lookahead_ms`` (25 ms)) has
#: arrived, plus the caller's block length (plus the cross-channel wait, 3b). Significant:
#: above threshold and >= ``TAIL_FRACTION`` x the candidate's peak; the band-pass tail of a
#: large potential stays above threshold for tens of ms but below that level, and is
#: absorbed as the candidate's tail (see ``_scan``) instead of delaying it.
POST_CONTEXT_MS = 25.0
#: A candidate ends at its last supra-threshold sample >= TAIL_FRACTION x its running peak
#: (the level the duration feature measures a potential's extent at); the supra-threshold
#: samples after it, below that level and spaced <= ``merge_gap_ms``, are its tail
#: (band-pass ringing, the potential's own slow after-wave), see ``_scan``.
TAIL_FRACTION = 0.25
#: Accelerometer context after the peak (ms): fusion window end (``acc_window_ms``) and
#: motion window end (``MOTION_WINDOW_MS``).
ACC_CONTEXT_MS = 25.0
#: History kept for the EMG rings (s) and for the accelerometer ring (s). The EMG ring
#: holds 1.5 s before every decision position (``_held``) plus one piece of at most 1 s
#: (``_max_block``): a 1-s block from a replay is taken whole (one piece, not two).
EMG_HISTORY_S = 2.5
ACC_HISTORY_S = 60.0
#: Rail/lead-off look-back and look-ahead around a candidate (ms).
LEADOFF_MARGIN_MS = (200.0, 25.0)
#: The spike rule (a main phase no wider than the band-pass's response to one sample is
#: not counted) applies from this EMG rate up: below it the band-pass's top edge (0.45 fs,
#: 112 Hz at 250 Hz) is under a motor-unit potential's own bandwidth, every potential is
#: seen about as wide as a single sample, and width tells nothing (:mod:`.lowrate`).
SPIKE_RULE_MIN_RATE_HZ = 1000.0
#: Rule 10c: activity in an onset's lookahead window counts as begun before a later
#: candidate when its first active sample lies at least this long before that candidate's
#: start (its first sample above k sigma): a potential's own rising edge crosses rule 10's
#: lower levels (2.5 or 1.5 sigma) up to ~1-2 ms before it reaches k sigma, and rule 10's
#: window itself starts 3 ms after a candidate's last sample for its own tail.
ONSET_LEAD_MS = 3.0
#: Motion window around a candidate (ms before, ms after).
MOTION_WINDOW_MS = (150.0, 25.0)


@dataclass
class _Cluster:
    start: int
    last: int
    peak: int
    peak_abs: float
    peak_ratio: float
    overlong: bool = False
    sig_last: int = 0  #: last sample >= TAIL_FRACTION x the running peak


@dataclass
class _Candidate:
    channel: int
    start: int
    last: int
    peak: int
    peak_abs: float
    peak_ratio: float
    overlong: bool
    need_emg: int  # exclusive: EMG samples up to need_emg - 1 are required
    tail_last: int = 0  # last sample of its tail (see _scan), as far as known
    brief: list | None = None  # its _recent_brief entry, once decided
    is_event: bool = False  # classified as a twitch
    # EMG features, filled when the EMG context is complete
    sigma: float = np.nan
    amp_pp: float = 0.0
    duration_ms: float = 0.0
    n_phases: int = 1
    polarity: int = 1
    shape: np.ndarray | None = None  # (width + 2 * shift,) cleaned signal around the peak
    lf_pp: float = 0.0
    step_uv: float = 0.0
    rail: bool = False
    burst: bool = False
    act_pre: float = 0.0
    act_post: float = 0.0
    act_post_low: float = 0.0
    act_other: float = 0.0  # another channel's activity around it (rule 10b), max over channels
    act_recent: float = 0.0
    kind_hint: str | None = None
    detail: str = ""
    ecg_shape: np.ndarray | None = None
    ecg_beat: int = 0  # ECG fiducial point (low-band extremum near the peak)
    lobes: tuple[int, ...] = ()  # stream indices of the major lobes (|y| >= half the peak)
    motion_onset: tuple[float, float] | None = None  # (motion mg, baseline mg) when rising from rest
    background: "_Window | None" = None  # active count, y, sigma before it (rules 9, 12)
    before: "_Window | None" = None  # cleaned signal before it, up to its shape's end (train.py)
    post: "_Window | None" = None  # cleaned signal over rule 10's lookahead window (rule 10c)
    peel_y: "_Window | None" = None  # cleaned signal around it, up to its decision position (peel.py)
    beat_win: "_Window | None" = None  # cleaned signal and low band before it, to its decision position (rules 7, 7b)
    quiet: tuple | None = None  # the twitch-free stretch before it (y, keep), for the noise whitener
    extra: dict = field(default_factory=dict)
    mf_z: float = 0.0  #: found by the matched-filter bank (:mod:`.mfdetect`): its z; 0 for a plain candidate


class TwitchDetector:
    """Streaming twitch detector over EMG (µV) and, optionally, a 3-axis accelerometer (mg).

    Args:
        emg_rate_hz: EMG sample rate, Hz.
        emg_labels: one label per EMG channel (column of the EMG blocks).
        acc_rate_hz: accelerometer sample rate, Hz; None without an accelerometer.
            With one, an event is released only once accelerometer samples covering
            ``ACC_CONTEXT_MS`` after its peak have arrived (or were announced lost).
        config: tunables (:class:`DetectorConfig`).

    Raises:
        ValueError: no channel, non-positive rate, empty band.
    """

    def __init__(
        self,
        emg_rate_hz: float,
        emg_labels: Sequence[str],
        acc_rate_hz: float | None = None,
        config: DetectorConfig | None = None,
    ) -> None:
        cfg = self.config = config or DetectorConfig()
        self.emg_rate_hz = float(emg_rate_hz)
        if not np.isfinite(self.emg_rate_hz) or self.emg_rate_hz <= 0:
            raise ValueError(f"emg_rate_hz must be positive, got {emg_rate_hz!r}")
        self.emg_labels = tuple(str(x) for x in emg_labels)
        if not self.emg_labels:
            raise ValueError("emg_labels must name at least one channel")
        self.acc_rate_hz = None if acc_rate_hz is None else float(acc_rate_hz)
        if self.acc_rate_hz is not None and (not np.isfinite(self.acc_rate_hz) or self.acc_rate_hz <= 0):
            raise ValueError(f"acc_rate_hz must be positive or None, got {acc_rate_hz!r}")
        C = self.n_channels = len(self.emg_labels)
        fs = self.emg_rate_hz
        ms_cache: dict[float, int] = {}

        def _ms(ms: float) -> int:  # samples for ms (memoised: called ~40 times per candidate)
            v = ms_cache.get(ms)
            if v is None:
                v = ms_cache[ms] = max(1, int(round(ms * 1e-3 * fs)))
            return v

        self._ms = _ms
        ms = self._ms

        nyq_hi = 0.45 * fs
        band = (cfg.band_hz[0], min(cfg.band_hz[1], nyq_hi))
        if not 0 < band[0] < band[1]:
            raise ValueError(f"band {cfg.band_hz} Hz is empty at {fs} Hz")
        bp_sos = butter_sos(cfg.filter_order, band, "bandpass", fs)
        self._bp = SosState(bp_sos, C)
        #: main-phase width (ms) of the band-pass's response to a single sample (plausible.py)
        self.impulse_width_ms = impulse_width_ms(bp_sos, fs)
        #: the train test (train.py): interspike interval range and waveform half-width, samples
        self._train_isi = (None if cfg.train_min_corr <= 0
                           else (ms(cfg.train_isi_ms[0]), ms(cfg.train_isi_ms[1])))
        self._train_half = ms(cfg.train_half_ms)
        self._pop_shapes: PopShapes | None = None  # built on first use (popshape.py)
        low = (cfg.low_band_hz[0], min(cfg.low_band_hz[1], nyq_hi))
        self._lf = SosState(butter_sos(2, low, "bandpass", fs), C)
        self._hum_lp = SosState(butter_sos(1, 1.0 / (2 * np.pi * cfg.hum_env_ms * 1e-3), "lowpass", fs), C)
        self._mains = MainsCanceller(
            C, fs, ms(cfg.mains_window_ms), cfg.mains_grid_step_hz, cfg.mains_search_hz,
            cfg.mains_min_uv, cfg.mains_min_snr, cfg.mains_notch_bw_hz, cfg.mains_max_harmonic,
            gate_k=cfg.mains_gate_k, gate_hold=ms(cfg.mains_gate_hold_ms), gate_max=ms(cfg.mains_gate_max_ms),
            gate_hum_ratio=cfg.mains_gate_hum_ratio,
        )
        self._floor = AdaptiveFloor(C, ms(cfg.noise_window_ms), cfg.noise_history_windows, cfg.min_noise_floor_uv)
        self._history_samples = ms(cfg.noise_window_ms) * cfg.noise_history_windows

        self.settle = ms(cfg.settle_ms) if cfg.settle_ms > 0 else 0
        self.gap = ms(cfg.merge_gap_ms)
        self.max_cluster = ms(cfg.max_cluster_ms)
        self.max_duration = ms(cfg.max_duration_ms)
        self.pre = ms(cfg.shape_pre_ms)
        self.post = ms(cfg.shape_post_ms)
        self.post_context = ms(POST_CONTEXT_MS)
        self.act_window = ms(cfg.activity_window_ms)
        self.lookahead = ms(cfg.lookahead_ms)
        # ring rows (features.RING_ROWS): raw, cleaned, low band, hum envelope, hum baseline,
        # sigma, active cumsum, active fraction, rail
        self._rows = {name: slice(i * C, (i + 1) * C) for i, name in enumerate(RING_ROWS)}
        self._ring = Ring(len(RING_ROWS) * C, int(EMG_HISTORY_S * fs))
        self._max_block = max(1, int(1.0 * fs))
        #: history the ring holds at every decision position whatever the block split: a
        #: candidate's EMG features are read once the stream reaches its decision position
        #: (need_emg), at most one piece (_max_block) later, and the ring then holds at least
        #: its capacity (or everything since the segment start). Every candidate read is
        #: clipped to [need_emg - this, need_emg), so no read succeeds or not by split.
        self._held = self._ring.capacity - self._max_block
        self._acs = np.zeros(C)  # running count of active samples (exact in float64)

        self._next: int | None = None  # next expected EMG index
        self._segment_start = 0
        self._open: list[_Cluster | None] = [None] * C
        #: per channel, the open tail of the last closed cluster: [last, level, candidate]
        self._tail: list[list | None] = [None] * C
        self._wait_emg: list[deque[_Candidate]] = [deque() for _ in range(C)]
        self._wait_acc: list[deque[_Candidate]] = [deque() for _ in range(C)]
        self._ready: list[TwitchEvent] = []
        # twitch-classified candidates waiting for the cross-channel merge, and every
        # twitch-classified candidate of the last moments (peak, channel, amplitude)
        self._pending: list[tuple[_Candidate, float | None, float]] = []
        self._coincident: deque[_Candidate] = deque()
        #: rhythm-confirmed ECG beats of every channel (start, fiducial, channel): the heart
        #: is one source, seen on all channels at once (see _release)
        self._ecg_beats: deque[tuple[int, int, int, int]] = deque()  # + the beat's need_emg
        self._same_beat = ms(cfg.ecg_same_beat_ms)
        self._xtalk_window = int(round(cfg.crosstalk_window_ms * 1e-3 * fs))
        self._xtalk_wait = ms(cfg.crosstalk_max_wait_ms)
        # the candidate feature windows (samples) and levels, as features.GEOMETRY / LEVELS
        lengths = {"post_context": self.post_context, "pre": self.pre, "post": self.post,
                   "align_before": ms(cfg.ecg_align_ms[0]), "align_after": ms(cfg.ecg_align_ms[1]),
                   "ecg_window": ms(cfg.ecg_window_ms), "leadoff_before": ms(LEADOFF_MARGIN_MS[0]),
                   "leadoff_after": ms(LEADOFF_MARGIN_MS[1]), "act_window": self.act_window,
                   "bg_window": ms(cfg.bg_window_ms), "lbg_window": ms(cfg.lbg_window_ms),
                   "voluntary_holdoff": ms(cfg.voluntary_holdoff_ms), "lookahead": self.lookahead,
                   "xtalk_window": self._xtalk_window}
        lengths.update({f"ms{v}": ms(v) for v in (3, 5, 12, 15, 20, 25, 40)})
        self._geometry = np.array([lengths[k] for k in GEOMETRY], dtype=np.int64)
        self._levels = np.array([getattr(cfg, k) for k in LEVELS], dtype=np.float64)
        self._artefacts: list[ArtefactSegment] = []
        self._vol_runs = [RunTracker(max(1, ms(cfg.activity_min_ms) - self.act_window), ms(50)) for _ in range(C)]
        self._burst_runs = [RunTracker(ms(300), ms(50)) for _ in range(C)]
        self._rail_runs = [RunTracker(1, ms(200)) for _ in range(C)]
        self._flat_runs = [RunTracker(1, 1) for _ in range(C)]
        self._last_event: list[tuple[int, float] | None] = [None] * C
        self._last_pop = [-(10**12)] * C
        #: per channel, the lookahead window of the last candidate rejected as a
        #: contraction's onset (rule 10): (its end, its first active sample); a later
        #: candidate starting in it, after activity began there, is part of that activity
        #: (rule 10c)
        self._onset_until: list[tuple[int, int]] = [(-(10**12), 0)] * C
        #: per channel, a rejected step not yet named (candidate, step µV): a pop, or the
        #: onset of a heartbeat when the channel's next candidate is a recognised beat
        #: whose R wave follows it (see _settle_step)
        self._held_step: list[tuple[_Candidate, float] | None] = [None] * C
        #: supports (start, last) of the recent candidates per channel not rejected as
        #: voluntary (twitches, echoes, ECG beats, pops ...): their samples
        #: (+- ``bg_exclude_ms``) do not count as background activity
        #: entries [start, last, failed the local-background test, an ECG beat]
        self._recent_brief: list[deque[list]] = [deque() for _ in range(C)]
        self._units = UnitBook(C, cfg.unit_max_distance, cfg.unit_max_amp_ratio, cfg.unit_learn_rate, cfg.max_units,
                               cfg.unit_noise_factor, cfg.unit_max_noisy_distance)
        #: peel-off of superimposed potentials (peel.py): the channels' noise whiteners
        self._peel_on = cfg.peel_false_per_min > 0
        self._whiteners = [NoiseWhitener(cfg.mf_order, cfg.mf_learn) for _ in range(C)]
        #: detection in a MUAP's band (mfdetect.py, 1.18): the bank, and per channel its
        #: detections not yet made candidates (channel, peak, template, z, known index)
        self._bank: MuapBank | None = None
        self._mf_pending: list[list[tuple[int, int, int, float, int]]] = [[] for _ in range(C)]
        if cfg.mf_detect_false_per_min > 0:
            from .mfdetect import LAMBDAS_MS, ORDERS
            n_tests = 2 * len(ORDERS) * len(LAMBDAS_MS)  # per sample: every template, both polarities
            self._bank = MuapBank(C, fs, bp_sos, ms(cfg.noise_window_ms), cfg.noise_history_windows,
                                  mf_threshold(fs, n_tests, cfg.mf_detect_false_per_min), ms(cfg.mf_gap_ms),
                                  cfg.min_noise_floor_uv)
            self._mf_tau_count = mf_threshold(fs, n_tests, cfg.mf_count_false_per_min)
            self._mf_radius = self.gap  # a plain candidate's sample within this radius: it is that candidate
            self._mf_reach = self._bank.delay + max(b for b, _ in self._bank.extent)
            #: where a channel's floor is broad-band electrode noise (broadband.py): the bank
            #: searches there only
            self._broadband = BroadbandGate(C, fs, ms(cfg.noise_window_ms), cfg.noise_history_windows,
                                            edge_hz=cfg.mf_gate_edge_hz, min_hf_share=cfg.mf_gate_min_hf_share,
                                            max_rms_ratio=cfg.mf_gate_max_rms_ratio,
                                            max_spread=cfg.mf_gate_max_spread, lattice_k=cfg.mf_gate_lattice_k,
                                            min_floor_uv=cfg.count_smooth_min_noise_uv)
        self._ecg = [EcgRhythm(fs, cfg) for _ in range(C)]
        self._beat_shapes = [BeatTemplate(ms(cfg.ecg_template_ms[0]), ms(cfg.ecg_template_ms[1]), self._same_beat,
                                          cfg.ecg_template_beats, cfg.ecg_template_learn) for _ in range(C)]
        self._n_seen = np.zeros(C)
        self._n_searched = np.zeros(C)
        self._n_artefact = np.zeros(C)
        self._lead_off = np.zeros(C, dtype=bool)
        self.counts = {"events": 0, "echo": 0, "crosstalk": 0, "dropped_at_gap": 0, "no_acc_data": 0, "mf_found": 0,
                       "low_vs_background": 0, "on_beat": 0, "on_beat_late": 0,
                       "not_counted": 0, "not_counted_spike": 0, "peeled": 0, "echo_known_unit": 0, "not_counted_train": 0}
        for kind in ("voluntary", "motion", "ecg", "pop", "mains_burst", "lead_off"):
            self.counts[f"rejected_{kind}"] = 0

        # accelerometer
        self._acc_next: int | None = None
        if self.acc_rate_hz is not None:
            fa = self.acc_rate_hz
            ahi = 0.45 * fa
            self._acc_mmg = SosState(butter_sos(2, (cfg.acc_band_hz[0], min(cfg.acc_band_hz[1], ahi)), "bandpass", fa), 3)
            self._acc_mot = SosState(butter_sos(2, (0.5, min(20.0, ahi)), "bandpass", fa), 3)
            self._acc_ring = Ring(3, int(ACC_HISTORY_S * fa))
            self._acc_win = max(1, int(round(fa)))  # 1 s windows for the acc floor
            self._acc_buf = np.zeros(self._acc_win)
            self._acc_fill = 0
            self._acc_hist: deque[float] = deque(maxlen=11)
            self._acc_floor = np.nan
            self._motion_runs = RunTracker(1, max(1, int(round(0.2 * fa))))

    # ================================================================== public
    def process_emg(self, block_uv: np.ndarray, first_sample_index: int) -> list[TwitchEvent]:
        """Feed one EMG block (n, n_channels) µV whose first sample has stream index
        ``first_sample_index``; returns the events decided so far, sorted by
        ``(sample_index, channel)``.

        Raises:
            ValueError: wrong shape, NaN/inf, or a block that does not continue the
                stream (announce losses with :meth:`mark_gap`). State is unchanged.
        """
        block = np.asarray(block_uv, dtype=np.float64)
        if block.ndim != 2 or block.shape[1] != self.n_channels:
            raise ValueError(f"block_uv must have shape (n_samples, {self.n_channels}), got {block.shape}")
        first = int(first_sample_index)
        if not np.isfinite(block).all():
            bad = np.argwhere(~np.isfinite(block))[0]
            raise ValueError(
                f"block_uv has a non-finite sample (NaN or inf) at stream index {first + int(bad[0])}, "
                f"channel {int(bad[1])}; mark lost samples with mark_gap() instead"
            )
        if self._next is None:
            self._next = first
            self._segment_start = first
            self._ring.reset(first)
        elif first != self._next:
            raise ValueError(f"EMG block starts at sample {first}, expected {self._next}; announce lost samples with mark_gap()")
        xt = np.ascontiguousarray(block.T)
        # long blocks in pieces (of at most _max_block), each ending at the mains estimator's
        # window ends, so its estimates use the floor at the window end whatever the split
        pos, n = 0, xt.shape[1]
        while pos < n:
            take = min(n - pos, self._max_block, self._mains.samples_to_window_end())
            self._emg_block(np.ascontiguousarray(xt[:, pos : pos + take]), first + pos)
            pos += take
        return self._take()

    def process_acc(self, block_mg: np.ndarray, first_sample_index: int) -> list[TwitchEvent]:
        """Feed one accelerometer block (m, 3) mg; returns events that were waiting for it.

        Raises:
            ValueError: no accelerometer configured, wrong shape, NaN/inf, or a block
                that does not continue the stream. State is unchanged.
        """
        if self.acc_rate_hz is None:
            raise ValueError("this detector was built without an accelerometer (acc_rate_hz=None)")
        block = np.asarray(block_mg, dtype=np.float64)
        if block.ndim != 2 or block.shape[1] != 3:
            raise ValueError(f"block_mg must have shape (n_samples, 3), got {block.shape}")
        first = int(first_sample_index)
        if not np.isfinite(block).all():
            bad = np.argwhere(~np.isfinite(block))[0]
            raise ValueError(f"block_mg has a non-finite sample (NaN or inf) at stream index {first + int(bad[0])}, axis {int(bad[1])}")
        if self._acc_next is None:
            self._acc_next = first
            self._acc_ring.reset(first)
        elif first != self._acc_next:
            raise ValueError(f"accelerometer block starts at sample {first}, expected {self._acc_next}; announce lost samples with mark_gap()")
        if block.shape[0]:
            self._acc_block(np.ascontiguousarray(block.T), first)
            self._decide_all()
        return self._take()

    def mark_gap(self, stream: str, first_missing_index: int, n_missing: int) -> None:
        """Announce ``n_missing`` lost samples of ``stream`` ("emg" or "acc").

        EMG: open candidates and candidates still waiting for EMG context are dropped
        (no event straddles a gap; counted in ``counts["dropped_at_gap"]``); filters
        restart after the gap with ``settle_ms`` blanking. Accelerometer: the lost span
        counts as covered but without data; an event whose fusion window falls in it has
        ``acc_response_mg=None`` and no motion test. No sample is ever invented.

        Raises:
            ValueError: unknown stream, ``n_missing < 0``, or the gap does not start at
                the next expected index.
        """
        first, n = int(first_missing_index), int(n_missing)
        if stream not in ("emg", "acc"):
            raise ValueError(f"stream must be 'emg' or 'acc', got {stream!r}")
        if n < 0:
            raise ValueError(f"n_missing must be >= 0, got {n}")
        if stream == "acc" and self.acc_rate_hz is None:
            raise ValueError("this detector was built without an accelerometer (acc_rate_hz=None)")
        expected = self._next if stream == "emg" else self._acc_next
        if expected is not None and first != expected:
            raise ValueError(f"{stream} gap starts at sample {first}, expected {expected}")
        if n == 0:
            return
        if stream == "emg":
            for c in range(self.n_channels):
                if self._open[c] is not None:
                    self.counts["dropped_at_gap"] += 1
                    self._open[c] = None
                tail = self._tail[c]
                if tail is not None:
                    self._close_tail(c, tail)
                    self._tail[c] = None
                self.counts["dropped_at_gap"] += len(self._wait_emg[c]) + len(self._mf_pending[c])
                self._wait_emg[c].clear()
                self._mf_pending[c] = []
            if self._bank is not None:
                self._bank.reset()
                self._broadband.reset()
            self._close_runs()
            for f in (self._bp, self._lf, self._hum_lp):
                f.reset()
            self._mains.reset_segment(self._floor.floor_uv)
            if n > self._history_samples:
                self._floor.reset()
            else:
                self._floor.reset_window()
            self._next = first + n
            self._segment_start = self._next
            self._ring.reset(self._next)
        else:
            self._acc_mmg.reset()
            self._acc_mot.reset()
            self._acc_fill = 0
            self._acc_next = first + n
            self._acc_ring.reset(self._acc_next)
            self._emit_motion(self._motion_runs.close())
            self._decide_all()

    def flush(self) -> list[TwitchEvent]:
        """End of stream: decide every candidate with the data there is; return the rest."""
        if self._bank is not None:
            self._bank.reset()  # a run still open at the end is dropped
            self._mf_candidates(final=True)
        for c in range(self.n_channels):
            cl = self._open[c]
            if cl is not None:
                self._open[c] = None
                self._wait_emg[c].append(self._candidate(c, cl))
            self._tail[c] = None
            while self._wait_emg[c]:
                cand = self._wait_emg[c].popleft()
                self._emg_features(cand)
                self._wait_acc[c].append(cand)
        self._close_runs()
        if self.acc_rate_hz is not None:
            self._emit_motion(self._motion_runs.close())
        self._decide_all(final=True)
        return self._take()

    def pop_artefacts(self) -> list[ArtefactSegment]:
        """Artefact segments found since the last call, sorted by (start, channel)."""
        out = sorted(self._artefacts, key=lambda a: (a.start_index, -1 if a.channel is None else a.channel, a.kind, a.end_index))
        self._artefacts = []
        return out

    def quality(self) -> list[ChannelQuality]:
        """Per-channel signal quality as of the latest EMG sample."""
        out = []
        floor = self._floor.floor_uv
        for c, label in enumerate(self.emg_labels):
            seen = self._n_seen[c]
            usable = 0.0 if seen == 0 else max(0.0, (self._n_searched[c] - self._n_artefact[c]) / seen)
            out.append(ChannelQuality(
                channel=c, channel_label=label, noise_floor_uv=float(floor[c]),
                mains_hz=None if self._mains.mains_hz is None else round(float(self._mains.mains_hz), 3),
                mains_uv=float(self._mains.hum_rms_uv[c]), lead_off=bool(self._lead_off[c]),
                usable_fraction=float(min(1.0, usable)),
                artefact_fraction=float(0.0 if seen == 0 else min(1.0, self._n_artefact[c] / seen)),
                twitch_threshold_uv=float(self.config.k * floor[c]),
            ))
        return out

    @property
    def noise_floor_uv(self) -> np.ndarray:
        """Current noise floor per channel (µV RMS), NaN in warm-up (pipeline compatibility)."""
        return self._floor.floor_uv.copy()

    @property
    def mains_notches_hz(self) -> tuple[float, ...]:
        """Frequencies currently notched."""
        return self._mains.notches_hz

    # ================================================================== EMG
    def _emg_block(self, x: np.ndarray, base: int) -> None:
        cfg, C = self.config, self.n_channels
        n = x.shape[1]
        y_bp = self._bp.process(x)
        y, hum_base = self._mains.process(y_bp, self._floor.floor_uv)
        hum_env = y_bp - y
        hum_env *= hum_env
        self._hum_lp.process_inplace(hum_env)
        lf = self._mains.notch_low_band(self._lf.process(x))
        rail, off = np.empty((C, n), dtype=bool), np.empty((C, n), dtype=bool)
        any_off = lead_flags(x, hum_env, cfg.rail_uv, cfg.leadoff_hum_uv, rail, off)  # hum_env: now the envelope
        off_any = bool(any_off.any())
        n_settle = min(n, max(0, self._segment_start + self.settle - base))
        if n_settle < n:
            sig, windows = self._floor.process(y[:, n_settle:] if n_settle else y,
                                               None if not off_any else off[:, n_settle:] if n_settle else off)
            if n_settle:
                sigma = np.full((C, n), np.nan)
                sigma[:, n_settle:] = sig
            else:
                sigma = sig
            if self._bank is not None:  # the same samples as the floor (broadband.py)
                bb = self._broadband.process(x[:, n_settle:], y[:, n_settle:],
                                             None if not off_any else off[:, n_settle:], sig, self._floor.floor_uv,
                                             np.array([w for _, w in windows]) if windows else None)
                if n_settle:
                    broadband = np.zeros((C, n), dtype=bool)
                    broadband[:, n_settle:] = bb
                else:
                    broadband = bb
            else:
                broadband = np.zeros((C, 0), dtype=bool)  # not read: no bank
            for end_offset, wsig in windows:
                wbase = base + n_settle + end_offset - self._floor.window
                flat = wsig < cfg.flat_uv
                for c in range(C):
                    if flat[c] or self._flat_runs[c].open_start is not None:
                        self._emit_runs("lead_off", c, self._flat_runs[c].feed(np.full(self._floor.window, flat[c]), wbase), "flat signal")
                self._lead_off = flat | rail[:, -1] | (hum_env[:, -1] > cfg.leadoff_hum_uv)
        else:
            sigma = np.full((C, n), np.nan)
            broadband = np.zeros((C, n), dtype=bool)
        R, aw = self._rows, self.act_window
        # the ring columns of this block, filled in place (read the trailing counts first:
        # taking the slot may move the ring's contents)
        trailing = self._ring.read(base - aw, base, R["acs"]).copy()
        dst = self._ring.slot(n, base)
        acs = dst[R["acs"]]
        ay, ratio = np.empty((C, n)), np.empty((C, n))
        # flags per row: supra-threshold, hum burst, sustained activity
        flags = np.empty((3, C, n), dtype=bool)
        supra, burst, sustained = flags
        any_flags, n_finite = block_flags(y, sigma, hum_env, hum_base, cfg.k, cfg.activity_k, cfg.hum_burst_ratio,
                                          cfg.hum_burst_k, cfg.sustained_fraction, self._acs, trailing, aw,
                                          ay, ratio, flags, acs, dst[R["frac"]])
        self._acs = acs[:, -1].copy()
        dst[R["x"]] = x
        dst[R["y"]] = y
        dst[R["lf"]] = lf
        dst[R["hum"]] = hum_env
        dst[R["humbase"]] = hum_base
        dst[R["sigma"]] = sigma
        dst[R["rail"]] = rail

        self._n_seen += n
        self._n_searched += n_finite
        # run trackers only where something is (or was) on: a tracker fed all-False with no
        # open run does nothing
        any_supra, any_burst, any_sus = any_flags.tolist()
        any_off = any_off.tolist()
        for c in range(C):
            if any_sus[c] or self._vol_runs[c].open_start is not None:
                self._emit_runs("voluntary", c, self._vol_runs[c].feed(sustained[c], base), "sustained activity", shift=self.act_window)
            if any_burst[c] or self._burst_runs[c].open_start is not None:
                self._emit_runs("mains_burst", c, self._burst_runs[c].feed(burst[c], base), "hum burst")
            if any_off[c] or self._rail_runs[c].open_start is not None:
                self._emit_runs("lead_off", c, self._rail_runs[c].feed(off[c], base), "rail or hum")
            if any_supra[c] or self._open[c] is not None or self._tail[c] is not None:
                self._scan(c, ay[c], ratio[c], supra[c], base)
        self._next = base + n
        if self._bank is not None:
            # the bank runs where the channel's floor is above good contact (mfdetect.py)
            with np.errstate(invalid="ignore"):
                on = (sigma > cfg.count_smooth_min_noise_uv) & broadband
            ry = self._rows["y"].start
            held = lambda c, a, b: self._ring.read(max(a, self._segment_start), b, ry + c)  # noqa: E731
            for det in self._bank.process(y, base, on, held, off if off_any else None):
                self._mf_pending[det[0]].append(det)
            self._mf_candidates()
        for c in range(C):
            q = self._wait_emg[c]
            while q and q[0].need_emg <= self._next:
                cand = q.popleft()
                self._emg_features(cand)
                self._wait_acc[c].append(cand)
        self._decide_all()

    def _scan(self, c: int, ay: np.ndarray, ratio: np.ndarray, supra: np.ndarray, base: int) -> None:
        """Cluster the supra-threshold samples of one block (sample by sample in stream
        order, compiled: :func:`.clusters.scan_block`). A cluster's *significant* samples
        are those at or above ``TAIL_FRACTION`` x its running peak; it closes
        ``merge_gap_ms`` after its last significant sample (``sig_last``, the candidate's
        end). The supra-threshold samples that follow, within ``merge_gap_ms`` of each
        other and below that level, are its tail (the band-pass's ringing and the
        potential's own small tail): absorbed, never a candidate, and they do not hold the
        candidate's release. A sample at or above the level, or after a longer pause,
        starts a new cluster. The closed clusters become candidates and the closed tails
        are applied in the order they happened."""
        cl, tail = self._open[c], self._tail[c]
        si, sf = np.zeros(len(STATE_I), dtype=np.int64), np.zeros(len(STATE_F))
        if cl is not None:
            si[:6] = 1, cl.start, cl.last, cl.peak, cl.sig_last, cl.overlong
            sf[:2] = cl.peak_abs, cl.peak_ratio
        tail_cand = None
        if tail is not None:
            si[6:] = 1, tail[0]
            sf[2] = tail[1]
            tail_cand = tail[2]
        n = supra.shape[0]
        acts_i, acts_f = np.empty((2 * n + 2, 6), dtype=np.int64), np.empty((2 * n + 2, 2))
        n_acts = scan_block(supra, ay, ratio, base, self.gap, self.max_cluster, TAIL_FRACTION, si, sf, acts_i, acts_f)
        for row, level in zip(acts_i[:n_acts].tolist(), acts_f[:n_acts].tolist()):
            if row[0] == CLOSE_CLUSTER:
                tail_cand = self._candidate(c, _Cluster(row[1], row[2], row[3], level[0], level[1], bool(row[5]), row[4]))
                self._wait_emg[c].append(tail_cand)
            else:
                self._close_tail(c, [row[1], level[0], tail_cand])
        state, levels = si.tolist(), sf.tolist()
        self._open[c] = _Cluster(state[1], state[2], state[3], levels[0], levels[1], bool(state[5]), state[4]) if state[0] else None
        self._tail[c] = [state[7], levels[2], tail_cand] if state[6] else None

    def _close_tail(self, c: int, tail: list) -> None:
        """A tail ended at ``tail[0]``: its candidate's support (background exclusion, echo
        window) reaches to there, as when the tail was part of the candidate. Any later
        candidate of the channel starts after this, so it sees the same either way."""
        cand: _Candidate = tail[2]
        cand.tail_last = max(cand.tail_last, int(tail[0]))
        if cand.brief is not None:
            cand.brief[1] = max(cand.brief[1], cand.tail_last)
        le = self._last_event[c]
        if cand.is_event and le is not None:
            self._last_event[c] = (max(le[0], cand.tail_last), le[1])

    def _candidate(self, c: int, cl: _Cluster) -> _Candidate:
        # the candidate ends at its last significant sample (see _scan): its tail does not delay it
        last = cl.sig_last
        need = max(last + self.gap + 1, cl.peak + self.post_context + 1, last + self.lookahead + 1)
        return _Candidate(c, cl.start, last, cl.peak, cl.peak_abs, cl.peak_ratio, cl.overlong, need, tail_last=last)

    def _mf_candidates(self, final: bool = False) -> None:
        """The bank's detections (:mod:`.mfdetect`) whose surroundings have arrived (the
        ``merge_gap_ms`` after the peak) become candidates, unless a sample within that
        radius crosses ``k`` sigma (a plain candidate is there, or was: it speaks for the
        potential). The candidate's support is its template's extent at 0.25 of the largest
        lobe; its peak is the cleaned signal's largest |y| there. Its decision position is at
        least the sample at which the detection is known, and it joins the channel's queue
        in the order of decision positions (plain candidates' order is theirs already), so
        every block split gives the same queue."""
        assert self._bank is not None
        R, cfg = self._mf_radius, self.config
        ry, rs = self._rows["y"].start, self._rows["sigma"].start
        nxt = self._next if self._next is not None else 0
        for c in range(self.n_channels):
            pend = self._mf_pending[c]
            if not pend:
                continue
            keep = []
            for det in pend:
                _, p, j, z, known = det
                if p + R >= nxt and not final:
                    keep.append(det)
                    continue
                b, a = self._bank.extent[j]
                lo, hi = p - max(R, b), p + max(R, a) + 1
                yv = self._ring.read(lo, hi, ry + c)
                sg = self._ring.read(lo, hi, rs + c)
                if yv.size != hi - lo or lo < self._segment_start + self.settle or not np.all(np.isfinite(sg)):
                    continue  # not all held (a segment start): no candidate
                near = yv[max(R, b) - R:max(R, b) + R + 1]
                sgn = sg[max(R, b) - R:max(R, b) + R + 1]
                if np.any(np.abs(near) >= cfg.k * sgn):
                    continue  # the plain candidate is there
                start, last = p - b, p + a
                seg = np.abs(yv[max(R, b) - b:max(R, b) + a + 1])
                i = int(np.argmax(seg))
                peak = start + i
                peak_abs = float(seg[i])
                sig = float(sg[max(R, b) - b + i])
                if not sig > cfg.count_smooth_min_noise_uv:
                    continue  # good contact where the potential lies (see the bank's gate above)
                need = max(last + self.gap + 1, peak + self.post_context + 1, last + self.lookahead + 1, known, p + R + 1)
                cand = _Candidate(c, start, last, peak, peak_abs, peak_abs / sig, False, need, tail_last=last, mf_z=z)
                q = self._wait_emg[c]
                k = len(q)
                while k > 0 and q[k - 1].need_emg > need:
                    k -= 1
                q.insert(k, cand)
                self.counts["mf_found"] += 1
            self._mf_pending[c] = keep

    def _mf_horizon(self, o: int) -> int:
        """The earliest start a candidate of channel ``o`` not yet made by the bank can
        have (pending detections, an open run, runs still to come)."""
        assert self._bank is not None
        h = (self._next if self._next is not None else 0) - self._mf_reach
        for det in self._mf_pending[o]:
            h = min(h, det[1] - self._bank.extent[det[2]][0])
        run = self._bank._run[o]
        if run is not None:
            h = min(h, run[4] - self._mf_reach)
        return h

    def _emg_features(self, cand: _Candidate) -> None:
        """Everything that needs EMG context only, read from the ring in one compiled call
        (:func:`.features.candidate_features`). Every read stops at the decision position
        (need_emg): with a larger block the ring holds later samples too, and the result
        must not depend on the block split; and it starts no earlier than the history held
        at every split (``self._held`` before need_emg)."""
        rg = self._ring
        rs = rg.start
        lim = min(rg._len, cand.need_emg - rs)
        low = max(0, cand.need_emg - self._held - rs)
        (cand.sigma, cand.amp_pp, duration, cand.polarity, cand.n_phases, lobes, cand.shape, cand.lf_pp,
         cand.step_uv, cand.ecg_beat, cand.ecg_shape, cand.rail, cand.burst, cand.act_pre, bg_start, bg,
         cand.act_recent, cand.act_post, cand.act_post_low, cand.act_other) = candidate_features(
            rg._buf, rs, low, lim, self.n_channels, cand.channel, cand.start, cand.last, cand.peak, cand.peak_abs,
            self._geometry, self._levels)
        cand.duration_ms = float(duration) * 1e3 / self.emg_rate_hz
        p0 = cand.peak - self.pre
        cand.lobes = tuple(p0 + i for i in lobes.tolist()) or (cand.peak,)
        cand.background = _Window(bg_start, bg)
        c, ms, cfg = cand.channel, self._ms, self.config
        y_row = self._rows["y"].start + c
        y_only = slice(y_row, y_row + 1)  # the cleaned signal's row (a slice: a basic-indexing copy)

        def held(first: int, end: int, rows: slice) -> _Window:
            # rows of the ring over stream samples [first, end), clipped to [low, lim) as
            # every read here is, copied: the candidate keeps them until its decision
            i, j = max(first - rs, low), min(end - rs, lim)
            return _Window(rs + i, rg._buf[rows, i:max(i, j)].copy())

        if self._peel_on:  # the cleaned window peel-off reads (peel.py), to the decision position
            pm = cfg.mf_order + 2
            cand.peel_y = held(cand.start - self.pre - pm, cand.last + self.gap + self.post + pm + 1, y_only)
        if cfg.onset_follow:  # rule 10's lookahead window, as the features read it (rule 10c)
            cand.post = held(cand.last + ms(3), cand.last + self.lookahead, y_only)
        if cfg.on_beat_k > 0:  # what the twitch-on-a-beat rules read (7, 7b)
            # held with the candidate: its decision may wait for the accelerometer while
            # the EMG runs on and the ring moves (EMG fed seconds ahead)
            first = cand.start - ms(cfg.ecg_window_ms) - ms(25) - self._beat_shapes[c].before - self.pre - 2 - ms(3)
            lf_row = self._rows["lf"].start + c  # rows y, lf: C apart
            cand.beat_win = held(first, cand.need_emg, slice(y_row, lf_row + 1, lf_row - y_row))
        if self._train_isi is not None:  # the cleaned signal the train test reads (train.py)
            y0 = cand.peak - 2 * self._train_isi[1] - self._train_half
            cand.before = held(y0, cand.peak + self._train_half + 1, y_only)

    # ================================================================== accelerometer
    def _acc_block(self, a: np.ndarray, base: int) -> None:
        cfg = self.config
        m = a.shape[1]
        mmg = norm3(self._acc_mmg.process(a))
        mot = norm3(self._acc_mot.process(a))
        floor = np.empty(m)
        pos = 0
        while pos < m:
            take = min(self._acc_win - self._acc_fill, m - pos)
            floor[pos : pos + take] = self._acc_floor
            self._acc_buf[self._acc_fill : self._acc_fill + take] = mmg[pos : pos + take]
            self._acc_fill += take
            pos += take
            if self._acc_fill == self._acc_win:
                self._acc_hist.append(median1(self._acc_buf))
                self._acc_floor = median1(np.fromiter(self._acc_hist, float, len(self._acc_hist)))
                self._acc_fill = 0
        if m < self._acc_ring.capacity:
            dst = self._acc_ring.slot(m, base)
            dst[0], dst[1], dst[2] = mmg, mot, floor
        else:
            self._acc_ring.append(np.vstack((mmg, mot, floor)), base)
        moving = mot > cfg.acc_motion_mg
        # a tracker fed all-False with no open run does nothing
        if self._motion_runs.open_start is not None or moving.any():
            self._emit_motion(self._motion_runs.feed(moving, base))
        self._acc_next = base + m

    def _acc_to_emg(self, acc_index: int) -> int:
        assert self.acc_rate_hz is not None  # only with an accelerometer
        return int(np.floor(acc_index * self.emg_rate_hz / self.acc_rate_hz))

    def _emg_to_acc(self, emg_index: int) -> int:
        assert self.acc_rate_hz is not None  # only with an accelerometer
        return int(np.floor(emg_index * self.acc_rate_hz / self.emg_rate_hz))

    def _emit_motion(self, runs: list[tuple[int, int]]) -> None:
        hold = self._ms(self.config.motion_holdoff_ms)
        for a, b in runs:
            self._artefacts.append(ArtefactSegment("motion", None, max(0, self._acc_to_emg(a) - hold), self._acc_to_emg(b) + hold,
                                                   f"accelerometer gross motion > {self.config.acc_motion_mg:g} mg"))

    # ================================================================== decisions
    def _decide_all(self, final: bool = False) -> None:
        for c in range(self.n_channels):
            q = self._wait_acc[c]
            while q:
                cand = q[0]
                if not final and self.acc_rate_hz is not None:
                    need = self._emg_to_acc(cand.peak + self._ms(ACC_CONTEXT_MS)) + 1
                    if self._acc_next is None or self._acc_next < need:
                        break
                q.popleft()
                self._decide(cand)
        self._settle_steps_that_no_beat_can_follow(final)
        self._release(final)

    def _horizon(self, c: int) -> int:
        """Largest index h such that every candidate of channel ``c`` that can still become
        a twitch and starts at or before h has been decided. Overlong clusters never become
        twitches (sustained activity), so they do not hold anything back."""
        h = (self._next if self._next is not None else 0) - 1
        cl = self._open[c]
        if cl is not None and not cl.overlong:
            h = min(h, cl.start - 1)
        for q in (self._wait_emg[c], self._wait_acc[c]):
            for cand in q:
                if not cand.overlong:
                    h = min(h, cand.start - 1)
        return h

    def _release(self, final: bool = False) -> None:
        """Cross-channel merge: one discharge seen on several channels (volume conduction)
        is reported once, on the channel where its peak-to-peak amplitude is largest.

        Two twitch-classified candidates on different channels are one discharge when each
        one's peak lies within +-W (``crosstalk_window_ms``) of a major lobe (|y| >= half
        its peak) of the other: volume conduction is instantaneous, but the copy is a
        widened version of the potential and its largest lobe can be another lobe than on
        the home channel. A candidate is dropped (``counts["crosstalk"]``) when it is one
        discharge with a larger one (equal amplitudes: the lower channel wins). Any such
        partner starts before p + W (p = the candidate's peak). The candidate waits until
        every other channel's candidates that start by p + W and reach their decision
        position (``need_emg``) at most ``crosstalk_max_wait_ms`` after its own have been
        decided; later ones are not waited for (a long QRS on another channel, decided
        25 ms after it ends, held a twitch back by up to ~30 ms), and such a later one
        that proves to be the same discharge is dropped as a copy whatever its amplitude:
        the discharge was reported already. Every rule depends on decided candidates and
        their decision positions only, so block splits do not matter."""
        if not self._pending:
            return
        W, C = self._xtalk_window, self.n_channels
        horizons = [self._horizon(c) for c in range(C)]
        keep: list[tuple[_Candidate, float | None, float]] = []
        for item in self._pending:
            cand = item[0]
            p, c = cand.peak, cand.channel
            deadline = cand.need_emg + self._xtalk_wait
            if not final and any(self._may_still_partner(o, p + W, deadline) for o in range(C) if o != c):
                keep.append(item)
                continue
            # a candidate of the bank (1.18) also waits for the bank's detections on the other
            # channels: a plain candidate never waits for them (the bank never beats it)
            if (not final and cand.mf_z > 0 and self._bank is not None
                    and any(self._mf_horizon(o) <= p + W for o in range(C) if o != c)):
                keep.append(item)
                continue
            if "on_beat_gain" not in cand.extra and self._ecg_elsewhere(cand, W, deadline):
                continue
            beaten = any(
                o.channel != c and any(abs(q - p) <= W for q in o.lobes) and any(abs(q - o.peak) <= W for q in cand.lobes)
                and (o.mf_z <= 0 or cand.mf_z > 0)  # the bank's candidate never beats a plain one ...
                and ((cand.mf_z > 0 and o.mf_z <= 0)  # ... and always loses to one (that channel sees it clearly)
                     or cand.need_emg > o.need_emg + self._xtalk_wait  # reported already, not waited for by it
                     or (o.need_emg <= deadline and (o.amp_pp > cand.amp_pp or (o.amp_pp == cand.amp_pp and o.channel < c))))
                for o in self._coincident
            )
            if beaten:
                self.counts["crosstalk"] += 1
            else:
                self._emit(*item)
        self._pending = keep
        # forget coincidence records no pending or future candidate can reach
        if self._bank is not None:
            horizons += [self._mf_horizon(o) for o in range(C)]
        oldest = min(horizons + [it[0].peak for it in keep]) - 2 * W - 1
        while self._coincident and max(self._coincident[0].lobes) < oldest:
            self._coincident.popleft()
        while self._ecg_beats and self._ecg_beats[0][1] < oldest - self._ms(100):
            self._ecg_beats.popleft()

    def _may_still_partner(self, o: int, last_start: int, deadline: int) -> bool:
        """Can channel ``o`` still produce a candidate, starting by ``last_start``, decided
        by ``deadline`` (its need_emg), that is not decided yet? An open cluster's decision
        position can only grow (:meth:`_candidate` of it now is a lower bound); overlong
        clusters never become twitches."""
        cl = self._open[o]
        if cl is not None and not cl.overlong and cl.start <= last_start and self._candidate(o, cl).need_emg <= deadline:
            return True
        return any(not x.overlong and x.start <= last_start and x.need_emg <= deadline
                   for q in (self._wait_emg[o], self._wait_acc[o]) for x in q)

    def _ecg_elsewhere(self, cand: _Candidate, W: int, deadline: int) -> bool:
        """A wide potential (low-band p-p >= ``wide_ratio`` x its p-p, rule 7's shape test
        without its 8 sigma significance) whose fiducial lies within ``ecg_same_beat_ms``
        of a rhythm-confirmed ECG beat on another channel is that beat: the heart is one
        source and reaches every channel at once, but a channel where the ECG is small
        crosses the threshold on too few beats to learn the rhythm itself. Only beats
        whose candidates start at or before the candidate's peak + W and are decided by
        ``deadline`` count (those are decided whenever it is released, so block splits do
        not matter). Rejected as ECG."""
        cfg, c = self.config, cand.channel
        if not self._ecg_beats or cand.lf_pp < cfg.wide_ratio * cand.amp_pp:
            return False
        lim = cand.peak + W
        if not any(ch != c and start <= lim and need <= deadline and abs(f - cand.ecg_beat) <= self._same_beat
                   for start, f, ch, need in self._ecg_beats):
            return False
        self._reject(cand, "ecg", f"coincides with an ECG beat on another channel, low band {cand.lf_pp:.0f} µV")
        return True

    def _acc_features(self, cand: _Candidate) -> tuple[float | None, float | None, float]:
        """(response mg or None, motion mg or None, acc floor mg); sets ``cand.motion_onset``."""
        if self.acc_rate_hz is None or self._acc_next is None:
            return None, None, np.nan
        cfg = self.config
        fa_ms = lambda ms: int(round(ms * 1e-3 * self.acc_rate_hz))  # noqa: E731
        a = self._emg_to_acc(cand.peak)
        w0, w1 = cfg.acc_window_ms
        resp = self._acc_ring.read(a + fa_ms(w0), a + fa_ms(w1) + 1, 0)
        m0 = a - fa_ms(MOTION_WINDOW_MS[0])
        # the motion window ends where the potential begins (its first sample above the
        # threshold): a twitch's own mechanical response starts >= 5 ms after its EMG onset
        # (electromechanical delay) and is evidence for it, never movement (issue #19)
        m1 = min(a + fa_ms(MOTION_WINDOW_MS[1]), self._emg_to_acc(cand.start)) if cfg.motion_ends_at_onset else \
            a + fa_ms(MOTION_WINDOW_MS[1])
        mot = self._acc_ring.read(m0, m1 + 1, 1)
        fl = self._acc_ring.read(a, a + 1, 2)
        floor = float(fl[0]) if fl.size else np.nan
        motion = float(mot.max()) if mot.size else None
        cand.motion_onset = None
        if motion is not None and cfg.acc_onset_mg > 0 and cfg.acc_onset_mg <= motion <= cfg.acc_motion_mg:
            # motion onset: the motion band rises from a quieter baseline (the second before
            # the motion window; every read ends by peak + ACC_CONTEXT_MS, block-split free)
            base = self._acc_ring.read(m0 - fa_ms(cfg.acc_onset_base_ms), m0, 1)
            if base.size >= max(1, fa_ms(cfg.acc_onset_base_ms) // 2):
                level = median1(base)
                if motion >= cfg.acc_onset_ratio * level:
                    cand.motion_onset = (motion, level)
        return (float(resp.max()) if resp.size else None), motion, floor

    def _decide(self, cand: _Candidate) -> None:
        kind = self._classify(cand)
        if kind != "voluntary":  # a brief potential (twitch, echo, ECG beat, pop ...)
            rt = self._recent_brief[cand.channel]
            cand.brief = [cand.start, max(cand.last, cand.tail_last), kind == "low_vs_background", kind == "ecg"]
            rt.append(cand.brief)
            horizon = max(self.config.bg_window_ms, self.config.lbg_window_ms) + self.config.bg_exclude_ms + 5
            while rt and rt[0][1] < cand.start - self._ms(horizon):
                rt.popleft()

    def _classify(self, cand: _Candidate) -> str | None:
        """Classify (and record) one candidate; returns the rejection kind, ``"echo"``,
        ``"low_vs_background"`` or None (a twitch)."""
        cfg, c = self.config, cand.channel
        ms = self._ms
        if cand.shape is None:  # never got EMG context (flush at stream end)
            self._emg_features(cand)
        resp, motion, acc_floor = self._acc_features(cand)
        if self.acc_rate_hz is not None and resp is None:
            self.counts["no_acc_data"] += 1
        kind, detail, faint = None, "", False
        sustained = cand.overlong or cand.duration_ms > cfg.max_duration_ms
        wide = cand.lf_pp >= cfg.wide_ratio * cand.amp_pp and cand.lf_pp >= 8 * cand.sigma
        steppy = ((abs(cand.step_uv) >= cfg.pop_step_fraction * cand.amp_pp and abs(cand.step_uv) >= 5 * cand.sigma)
                  or self._pop_shaped(cand))
        previous = self._last_event[c]
        if previous is not None and (
            (cand.start <= previous[0] + ms(cfg.echo_window_ms) and cand.peak_abs < cfg.echo_fraction * previous[1])
            or (cand.start <= previous[0] + ms(cfg.ring_window_ms) and cand.peak_abs < cfg.ring_fraction * previous[1])
        ) and not self._known_firing(cand):
            self.counts["echo"] += 1
            return "echo"
        assert cand.ecg_shape is not None  # set by _emg_features before any decision
        periodic = False if (cand.rail or cand.burst) else self._ecg[c].is_ecg(cand.ecg_beat, cand.ecg_shape)
        self._settle_step(c, cand.ecg_beat if periodic else None)
        if cand.rail:
            kind, detail = "lead_off", "rail nearby"
        elif cand.burst:
            kind, detail = "mains_burst", "hum burst"
        elif periodic:
            self._ecg_beats.append((cand.start, cand.ecg_beat, c, cand.need_emg))
            if not self._twitch_on_beat(cand):
                kind, detail = "ecg", "periodic, ECG template"
            else:
                kind, detail = self._twitch_on_beat_kind(cand, motion)
        elif steppy and self._beat_tail(cand):
            kind, detail = "ecg", f"heartbeat end: step {cand.step_uv:.0f} µV after the R wave"
        elif steppy:  # named (pop or heartbeat onset) by the channel's next candidate
            self._held_step[c] = (cand, cand.step_uv)
            return "pop"
        elif (motion_rule := self._motion_kind(cand, motion)) is not None:
            kind, detail = motion_rule
        elif wide:
            if cand.lf_pp >= cfg.motion_low_uv and cand.lf_pp >= cfg.motion_low_k * cand.sigma:
                kind, detail = "motion", f"slow deflection {cand.lf_pp:.0f} µV"
            else:
                kind, detail = "ecg", f"wide (QRS-like) potential, low band {cand.lf_pp:.0f} µV"
        elif sustained and self._merged_with_beat(cand):
            # a twitch merged with a heartbeat into one long cluster (1.14): the beat fitted
            # and subtracted at the R wave the rhythm expects; what is left is the twitch
            kind, detail = self._twitch_on_beat_kind(cand, motion)
        elif sustained:
            kind, detail = "voluntary", "sustained cluster"
        elif (background_rule := self._background_kind(cand)) is not None:
            kind, detail = background_rule
        elif (act_pre := self._activity_before(cand)) >= cfg.activity_fraction:
            kind, detail = "voluntary", f"activity before ({act_pre:.2f})"
        elif cand.act_recent >= cfg.sustained_fraction:
            kind, detail = "voluntary", f"just after sustained activity ({cand.act_recent:.2f})"
        elif cand.act_post >= cfg.lookahead_fraction:
            kind, detail = "voluntary", f"activity after ({cand.act_post:.2f})"
            self._onset_until[c] = self._onset_window(cand, max(cfg.activity_k * cand.sigma,
                                                                cfg.ring_fraction * cand.peak_abs))
        elif cand.act_post_low >= cfg.lookahead_low_fraction:
            kind, detail = "voluntary", f"weak activity after ({cand.act_post_low:.2f})"
            self._onset_until[c] = self._onset_window(cand, max(cfg.lookahead_low_k * cand.sigma,
                                                                cfg.lookahead_low_peak * cand.peak_abs))
        elif (cfg.onset_follow and cand.start < self._onset_until[c][0]
              and self._onset_until[c][1] < cand.start - ms(ONSET_LEAD_MS)):
            # rule 10c: the activity that made the channel's previous candidate a
            # contraction's onset (rule 10) began before this potential, which lies in it
            kind, detail = "voluntary", "inside the activity after an onset"
        elif cfg.cross_fraction > 0 and cand.act_other >= cfg.cross_fraction and max(
                cand.extra.get("bg_low", 0.0), cand.act_post_low) >= cfg.cross_own_fraction:
            kind, detail = "voluntary", "activity on another channel ({:.2f}), own {:.2f}".format(
                cand.act_other, max(cand.extra.get("bg_low", 0.0), cand.act_post_low))
        elif cand.start - self._last_pop[c] <= ms(cfg.pop_holdoff_ms):
            kind, detail = "pop", "pop recovery"
        elif cfg.faint_step_fraction > 0 and abs(cand.step_uv) >= cfg.faint_step_fraction * cand.amp_pp:
            # rule 11b: the band-pass image of a baseline step under rule 5's 5 sigma floor
            kind, detail, faint = "pop", f"faint step {cand.step_uv:.0f} µV", True
        if kind is not None:
            # a pop's recovery is reported with it; a faint step is too small to need one
            self._reject(cand, kind, detail, cfg.pop_holdoff_ms if kind == "pop" and not faint else 0.0)
            return kind
        if cfg.lbg_factor > 0 and cand.mf_z <= 0 and cand.peak_abs < cfg.lbg_factor * self._local_background(cand):
            self.counts["low_vs_background"] += 1  # a brief potential, not a twitch: no artefact segment
            return "low_vs_background"
        self._last_event[c] = (max(cand.last, cand.tail_last), cand.peak_abs)
        cand.is_event = True
        if self._peel_on:
            cand.quiet = self._quiet_stretch(cand)
        self._pending.append((cand, resp, acc_floor))
        self._coincident.append(cand)
        return None

    def _onset_window(self, cand: _Candidate, level: float) -> tuple[int, int]:
        """Rule 10c's record of an onset: (the end of its lookahead window, the first
        sample there above ``level``, rule 10's level), from the candidate's copy of that
        window (read with its features: block-split free)."""
        end = cand.last + self.lookahead
        win = cand.post
        if win is None or win.data.shape[1] == 0:
            return end, end
        above = np.flatnonzero(np.abs(win.data[0]) > level)
        return end, (win.start + int(above[0])) if above.size else end

    def _beat_tail(self, cand: _Candidate) -> bool:
        """A step 0..``ecg_tail_ms`` after the R wave (fiducial) of its channel's last
        recognised beat is the end of that QRS complex (S wave, J point), not a pop. The
        channel's beats are recognised in its candidate order, so block splits do not
        change it; reads nothing new (no latency)."""
        last = self._ecg[cand.channel].last_beat
        tail = self.config.ecg_tail_ms
        return tail > 0 and last is not None and 0 <= cand.peak - last <= self._ms(tail)

    def _pop_shaped(self, cand: _Candidate) -> bool:
        """Rule 5b: the candidate's cleaned waveform is the band-pass image of a step with an
        exponential recovery (an electrode pop, whatever its recovery time and the front
        end's filters: :mod:`.popshape`), R^2 >= ``pop_fit_r2``, and its low band steps the
        same way by >= ``pop_fit_step_fraction`` x its p-p. Reads only the shape window and
        the step already measured: no extra latency, block-split free."""
        cfg = self.config
        if cfg.pop_fit_r2 <= 0 or cand.shape is None or abs(cand.step_uv) < cfg.pop_fit_step_fraction * cand.amp_pp:
            return False
        if self._pop_shapes is None:
            self._pop_shapes = PopShapes(self._bp.sos, self.emg_rate_hz, self.pre + 2, self.pre + self.post + 5)
        r2, sign = self._pop_shapes.fit(cand.shape)
        cand.extra["pop_r2"] = r2
        return r2 >= cfg.pop_fit_r2 and sign * cand.step_uv > 0

    def _twitch_on_beat_kind(self, cand: _Candidate, motion: float | None) -> tuple[str | None, str]:
        """The rules a twitch found on a heartbeat still meets (6, 6b, 9), in the main
        chain's order: (kind, detail), kind None for a twitch."""
        return self._motion_kind(cand, motion) or self._background_kind(cand) or (None, "")

    def _motion_kind(self, cand: _Candidate, motion: float | None) -> tuple[str, str] | None:
        """Rules 6 and 6b: the limb moves (accelerometer band above ``acc_motion_mg``
        around the candidate) or starts to (motion onset): (kind, detail), or None."""
        if motion is not None and motion > self.config.acc_motion_mg:
            return "motion", f"accelerometer {motion:.0f} mg"
        if cand.motion_onset is not None:
            return "motion", "motion onset: accelerometer {:.0f} mg from {:.1f} mg".format(*cand.motion_onset)
        return None

    def _background_kind(self, cand: _Candidate) -> tuple[str, str] | None:
        """Rule 9: a busy background before the candidate (:meth:`_background_activity`
        >= ``bg_fraction``) is a weak contraction: (kind, detail), or None."""
        if (bg := self._background_activity(cand)) >= self.config.bg_fraction:
            return "voluntary", f"background activity before ({bg:.2f})"
        return None

    def _merged_with_beat(self, cand: _Candidate) -> bool:
        """A sustained (overlong) candidate that holds a heartbeat with a twitch on it
        (detector 1.14). A twitch 30-60 ms after the R wave merges with a wide QRS into
        one cluster longer than ``max_cluster_ms``; its peak is the twitch's, so the R
        wave lies before the fiducial search window (``ecg_align_ms`` around the peak)
        and the rhythm test failed. Here the fiducial is searched over the whole cluster
        (the low band's extremum from its local baseline, as in the features); when it
        lies on the channel's learned rhythm (k RRs after its last beat, the rhythm's own
        tolerance), the beat's learned shape is fitted there and subtracted
        (:meth:`_twitch_on_beat`, without teaching the template); a twitch that stands out
        of the fit makes the candidate that twitch. Reads the ring within the history held
        at every split, up to the decision position: block-split free, no latency."""
        cfg, c, ms = self.config, cand.channel, self._ms
        rhythm = self._ecg[c]
        if not cfg.on_beat_merged or cfg.on_beat_k <= 0 or rhythm.rr is None or cand.shape is None:
            return False
        win = cand.beat_win
        assert win is not None  # set by _emg_features when on_beat_k > 0
        low, lim = win.start, cand.need_emg
        b0 = max(cand.start - ms(cfg.ecg_window_ms) - ms(25), low)
        end = min(cand.peak + self.post_context + 1, lim)
        lf = win.read(b0, end, 1)
        k0, k1 = cand.start - b0, min(cand.peak + ms(cfg.ecg_align_ms[1]) + 1, end) - b0
        if lf.size != end - b0 or k0 < 0 or k1 <= k0:
            return False
        f = b0 + k0 + int(np.argmax(np.abs(lf[k0:k1] - np.median(lf))))
        if rhythm.on_rhythm(f) is None:
            return False
        kept = cand.ecg_beat
        cand.ecg_beat = f
        if self._twitch_on_beat(cand, teach=False):
            self._ecg_beats.append((cand.start, f, c, cand.need_emg))
            cand.extra["merged_beat"] = True
            return True
        cand.ecg_beat = kept
        return False

    def _twitch_on_beat(self, cand: _Candidate, teach: bool = True) -> bool:
        """A recognised beat: is there a twitch on it (:mod:`.onbeat`)? If so, the
        candidate's shape features become the residual's (peak, p-p, duration, phases,
        lobes, polarity, shape; the beat's span, accelerometer features and context stay)
        and True is returned; if not, the beat teaches its channel's template. Reads stop
        at the decision position and start no earlier than the history held at every
        split (as in :meth:`_emg_features`)."""
        cfg, c = self.config, cand.channel
        if cfg.on_beat_k <= 0:
            return False
        tpl, f, ms = self._beat_shapes[c], cand.ecg_beat, self._ms
        win = cand.beat_win
        assert win is not None  # set by _emg_features when on_beat_k > 0
        low, lim = win.start, cand.need_emg
        a = max(f - tpl.before, low)
        y = win.read(a, min(f + tpl.after, lim), 0)
        found = tpl.find_twitch(y, a, f, cand.start, cand.last, float(cand.sigma), cfg.on_beat_k,
                                cfg.on_beat_fraction, ms(cfg.on_beat_half_ms), cfg.on_beat_max_gain)
        if found is None:
            if teach:
                tpl.teach(y, a, f)
            return False
        rp, gain = found
        pre, post, m3 = self.pre, self.post, ms(3)
        w0 = min(cand.start, rp - pre - 2) - m3
        if w0 < low or rp + post + 3 > lim:
            return False  # the shape window is not held (at a segment start)
        yy = win.read(w0, lim, 0)
        r = yy - tpl.beat_uv(w0, yy.size, f, gain)
        i = rp - w0
        peak_abs, sigma = abs(float(r[i])), float(cand.sigma)
        half = ms(cfg.on_beat_half_ms)
        lvl = max(0.25 * peak_abs, 2.0 * sigma)
        near = np.flatnonzero(np.abs(r[max(0, i - half) : i + half + 1]) >= lvl) + max(0, i - half)
        first, final = int(near[0]), int(near[-1])
        alone = self._candidate(c, _Cluster(w0 + first, w0 + final, rp, peak_abs, peak_abs / sigma, False, w0 + final))
        if cand.need_emg > alone.need_emg + ms(cfg.on_beat_max_delay_ms):
            self.counts["on_beat_late"] += 1  # found too late for the latency promise
            return False
        cand.extra["on_beat_gain"] = gain
        cand.peak, cand.peak_abs, cand.peak_ratio = rp, peak_abs, peak_abs / sigma
        cand.amp_pp = float(np.ptp(r[max(0, first - m3) : final + m3 + 1]))
        cand.duration_ms = (final - first + 1) * 1e3 / self.emg_rate_hz
        cand.polarity = 1 if r[i] >= 0 else -1
        n_phases, lobes = phases_and_lobes(r[i - pre : i + post + 1], max(0.2 * peak_abs, 1.5 * sigma), 0.5 * peak_abs)
        cand.n_phases = int(n_phases)
        cand.lobes = tuple(rp - pre + int(k) for k in lobes.tolist()) or (rp,)
        cand.shape = r[i - pre - 2 : i + post + 3].copy()
        self.counts["on_beat"] += 1
        return True

    def _settle_step(self, c: int, beat: int | None) -> None:
        """Name channel ``c``'s held step (a candidate whose low band stepped by >=
        ``pop_step_fraction`` x its peak-to-peak). ``beat``: the ECG fiducial (R wave) of the
        channel's next candidate when that candidate is a rhythm-confirmed heartbeat, else
        None. A QRS that crosses the threshold in two pieces makes its first piece look
        like a step (flat before, the rising R wave in the 12-25 ms after it); when the
        next candidate's R lies within ``ecg_window_ms`` after the step's peak, the step
        was that heartbeat's onset: an ECG artefact, no pop hold-off. Otherwise it is a
        pop and starts the ``pop_holdoff_ms`` hold-off. Decided only from the next
        candidate (or from knowing none can start in time, or at the stream end), so
        block splits do not change it."""
        held = self._held_step[c]
        if held is None:
            return
        self._held_step[c] = None
        cand, step_uv = held
        if beat is not None and 0 <= beat - cand.peak <= self._ms(self.config.ecg_window_ms):
            if cand.brief is not None:
                cand.brief[3] = True
            self._reject(cand, "ecg", f"heartbeat onset: step {step_uv:.0f} µV into the R wave")
            return
        self._last_pop[c] = cand.last
        self._reject(cand, "pop", f"step {step_uv:.0f} µV", self.config.pop_holdoff_ms)

    def _settle_steps_that_no_beat_can_follow(self, final: bool) -> None:
        """Name held steps as pops once no candidate of their channel can still start in
        time to be their heartbeat (its fiducial lies at most 30 ms before its start), or
        at the stream end."""
        reach = self._ms(self.config.ecg_window_ms + self.config.ecg_align_ms[0])
        for c, held in enumerate(self._held_step):
            if held is None:
                continue
            starts = [cl.start for cl in (self._open[c],) if cl is not None]
            starts += [cand.start for q in (self._wait_emg[c], self._wait_acc[c]) for cand in q]
            earliest = min(starts + [self._next if self._next is not None else 0])
            if final or earliest > held[0].peak + reach:
                self._settle_step(c, None)

    def _activity_before(self, cand: _Candidate) -> float:
        """``act_pre`` (active fraction over ``activity_window_ms`` ending 5 ms before the
        candidate) without the samples of the channel's recent ECG beats (+-
        ``bg_exclude_ms``): a heartbeat just before a twitch is not an ongoing contraction.
        Read from the candidate's background copy at decision time, when every earlier
        candidate of the channel has been named; ``act_pre`` itself when no beat is near."""
        ms = self._ms
        b1 = cand.start - ms(5)
        b0 = b1 - self.act_window
        ex = ms(self.config.bg_exclude_ms)
        beats = [(a, b) for a, b, _, ecg in self._recent_brief[cand.channel] if ecg and b + ex >= b0 and a - ex <= b1]
        if not beats:
            return cand.act_pre
        assert cand.background is not None  # set by _emg_features before any decision
        acs = cand.background.read(b0, b1 + 1, 0)
        if acs.size != b1 + 1 - b0:
            return cand.act_pre
        active = np.diff(acs) > 0  # samples b0+1 .. b1, as act_pre counts them
        _clear_supports(active, b0 + 1, beats, ex)
        return float(np.count_nonzero(active)) / self.act_window

    def _background_activity(self, cand: _Candidate) -> float:
        """Active fraction (|y| > ``activity_k`` sigma) over ``bg_window_ms`` ending 5 ms
        before the candidate, leaving out the supports (+- ``bg_exclude_ms``) of the channel's recent
        brief candidates (everything not rejected as voluntary): a train of twitches is brief potentials
        on a quiet background, a weak contraction keeps the background itself busy. 0 when
        fewer than half the window's samples remain (nothing left to judge by)."""
        cfg, c, ms = self.config, cand.channel, self._ms
        end = cand.start - ms(5)
        start = end - ms(cfg.bg_window_ms)
        win = cand.background
        assert win is not None  # set by _emg_features before any decision
        acs = win.read(start - 1, end, 0)
        if acs.size != end - start + 1:
            return 0.0
        active = np.diff(acs) > 0
        keep = np.ones(active.size, dtype=bool)
        _clear_supports(keep, start, [(a, b) for a, b, *_ in self._recent_brief[c]], ms(cfg.bg_exclude_ms))
        n = int(keep.sum())
        bg = 0.0 if n < active.size // 2 else float(np.count_nonzero(active & keep)) / n
        cand.extra["bg"] = bg
        # the same window at the weak-activity level (lookahead_low_k sigma), for rule 10b
        y = win.read(start, end, 1)
        sg = win.read(start, end, 2)
        if n >= active.size // 2 and y.size == active.size and sg.size == active.size:
            with np.errstate(invalid="ignore"):
                low = np.abs(y) > self.config.lookahead_low_k * sg
            cand.extra["bg_low"] = float(np.count_nonzero(low & keep)) / n
        return bg

    def _local_background(self, cand: _Candidate) -> float:
        """``lbg_quantile`` of |y| over ``lbg_window_ms`` ending 5 ms before the candidate,
        leaving out the supports (+- ``bg_exclude_ms``) of the channel's recent brief
        candidates (as :meth:`_background_activity`) except those that failed this test.
        Only samples before the candidate's start are read (chunk invariance). 0 (test
        passes) when fewer than half the window's samples remain."""
        cfg = self.config
        window = self._window_before(cand, except_failed=True)  # potentials that failed this test are background
        if window is None:
            return 0.0
        y, keep = window
        v = np.abs(y[keep])
        if v.size < y.size // 2 or not np.all(np.isfinite(v)):
            return 0.0
        q = _quantile(v, cfg.lbg_quantile)
        cand.extra["lbg"] = q
        return q

    def _emit(self, cand: _Candidate, resp: float | None, acc_floor: float) -> None:
        cfg, c = self.config, cand.channel
        assert cand.shape is not None  # set by _emg_features before any decision
        parts = None
        if self._peel_on:
            quiet = cand.quiet
            if quiet is not None:  # the twitch-free stretch before it teaches the channel's noise spectrum
                self._whiteners[c].update(*quiet)
            parts = self._decompose(cand)
        unit_match: float | None
        if parts is not None:  # superimposed firings of known units: the event is the one at its peak
            unit_id, unit_match = parts[0], 0.0
        else:
            unit_id, unit_match = self._units.assign(c, cand.shape, cand.amp_pp, self.pre + 2, noise_uv=cand.sigma)
        supported = None
        if resp is not None:
            level = max(cfg.acc_min_mg, cfg.acc_k * (acc_floor if np.isfinite(acc_floor) else 0.0))
            supported = float(np.clip((resp - level) / level, 0.0, 1.0)) if resp > level else 0.0
        confidence = self._confidence(cand, unit_match, supported)
        # what counts (docs/detection.md, *What counts*): plausible, and clear, or a known
        # unit's weaker firing, or with a mechanical response
        i = self.pre + 2  # the peak's index in the shape window
        w = cand.shape[max(0, i - self._ms(8.0)) : i + self._ms(8.0) + 1]
        mp_ms = main_phase_ms(w, min(i, self._ms(8.0)), self.emg_rate_hz)
        spike = (cfg.min_main_phase_ratio > 0 and self.emg_rate_hz >= SPIKE_RULE_MIN_RATE_HZ
                 and mp_ms < cfg.min_main_phase_ratio * self.impulse_width_ms)
        clear = (cand.peak_ratio >= cfg.count_k or self._smoothed_clear(cand)
                 or (cand.mf_z > 0 and cand.mf_z >= self._mf_tau_count))
        known = unit_match is not None and self._units.is_clear(c, unit_id)
        moved = supported is not None and supported > 0
        train = not spike and self._in_train(cand)
        if cand.mf_z > 0:  # found by the bank (1.18): it counts by its own z alone (below 5 sigma a
            known = moved = False  # noise blip joins a known unit easily, units.py; see mfdetect.py)
        counted = not spike and not train and (cfg.count_k <= 0 or clear or known or moved)
        if counted and (clear or moved):
            self._units.mark_clear(c, unit_id)
        if not counted:
            self.counts["not_counted"] += 1
            if spike:
                self.counts["not_counted_spike"] += 1
            if train:
                self.counts["not_counted_train"] += 1
        self.counts["events"] += 1
        self._ready.append(TwitchEvent(
            sample_index=cand.peak, t_s=cand.peak / self.emg_rate_hz, channel=c, channel_label=self.emg_labels[c],
            amplitude_uv=round(cand.amp_pp, 3), duration_ms=round(cand.duration_ms, 3), confidence=round(confidence, 4),
            detector=DETECTOR_VERSION, n_phases=cand.n_phases, polarity=cand.polarity,
            acc_response_mg=None if resp is None else round(resp, 4), unit_id=unit_id,
            counted=counted, main_phase_ms=round(mp_ms, 3),
        ))
        if parts is not None and counted:
            self._emit_peeled(cand, resp, parts[1])

    def _decompose(self, cand: _Candidate) -> tuple[int, list] | None:
        """Superimposed firings of known units in a twitch (:mod:`.peel`): the candidate's
        cleaned window, read at its decision position, explained as a sum of the channel's
        clear units' templates (units with ``peel_min_firings`` firings). When the
        templates explain it and at least two placements have their peaks in the
        candidate's own span (its start .. last significant sample + the merge gap), one
        within ``peel_min_sep_ms`` of the candidate's peak and the others that far from it
        and from each other: ``(unit id of the one at the peak, [(peak, unit id, gain,
        template) of the others]``; else None (the candidate is one potential, or not
        explained)."""
        cfg, ms = self.config, self._ms
        fit = self._fit_known(cand, cfg.peel_max_components)
        if fit is None or len(fit[0]) < 2:
            return None
        comps, rows, ids = fit
        win = cand.peel_y
        assert win is not None  # _fit_known read it
        sep = ms(cfg.peel_min_sep_ms)
        lo, hi = cand.start, cand.last + self.gap
        main: int | None = None
        others: list[tuple[int, int, float, np.ndarray]] = []
        for comp in comps:
            u = rows[comp.row]
            peak = win.start + comp.start + int(np.argmax(np.abs(u)))
            if not lo <= peak <= hi:
                continue
            if abs(peak - cand.peak) < sep:
                if main is None:
                    main = ids[comp.row]
                continue
            if all(abs(peak - q[0]) >= sep for q in others):
                others.append((peak, ids[comp.row], comp.alpha, u))
        if main is None or not others:
            return None
        return main, others

    def _known_firing(self, cand: _Candidate) -> bool:
        """Rule 1's exception (``peel_echo``): a would-be filter echo whose window one clear
        unit's template explains (:mod:`.peel`, a single placement within
        ``peel_min_sep_ms`` of its peak, residual as for peel-off) is that unit's firing,
        not ringing: it goes on to the other rules (``counts["echo_known_unit"]``). A
        band-pass or notch ringing is not shaped like a known unit at that unit's size."""
        cfg = self.config
        fit = self._fit_known(cand, 1) if cfg.peel_echo else None
        if fit is None:
            return False
        (comp,), rows, _ids = fit
        assert cand.peel_y is not None  # _fit_known read it
        peak = cand.peel_y.start + comp.start + int(np.argmax(np.abs(rows[comp.row])))
        if abs(peak - cand.peak) >= self._ms(cfg.peel_min_sep_ms):
            return False
        self.counts["echo_known_unit"] += 1
        return True

    def _fit_known(self, cand: _Candidate, max_components: int) -> tuple[list, np.ndarray, list[int]] | None:
        """The candidate's window (read at its decision position) fitted with the
        templates of the channel's units that fired clearly and joined
        ``peel_min_firings`` firings (:func:`.peel.peel`): ``(placements, templates, unit
        ids)`` when the fit is accepted (at least one placement, residual within
        ``peel_max_excess`` of the weakest), else None."""
        cfg, c, ms = self.config, cand.channel, self._ms
        if not self._peel_on:
            return None
        win = cand.peel_y
        fit = self._whiteners[c].filter()
        if win is None or fit is None or win.data.shape[1] == 0:
            return None
        a, sigma_e = fit
        rows, ids, amps = self._units.clear_templates(c, self.pre + self.post + 1, cfg.peel_min_firings)
        if not ids:
            return None
        tau = mf_threshold(self.emg_rate_hz, len(ids), cfg.peel_false_per_min)
        comps, excess = peel(win.data[0], rows, amps, a, sigma_e, tau, cfg.peel_amp_ratio, max_components,
                             cfg.peel_mismatch, ms(cfg.peel_same_unit_ms))
        if not comps or not excess <= cfg.peel_max_excess:
            return None
        return comps, rows, ids

    def _emit_peeled(self, cand: _Candidate, resp: float | None, others: list) -> None:
        """Report the other firings :meth:`_decompose` found in a counted twitch: each is
        its known unit's firing (counted; ``counts["peeled"]``), its features read from the
        fitted template; the accelerometer reading is the twitch's."""
        c, ms = cand.channel, self._ms
        for peak, unit_id, alpha, u in others:
            i = int(np.argmax(np.abs(u)))
            w = alpha * u
            peak_abs = abs(float(w[i]))
            sigma = float(cand.sigma)
            n_phases, _lobes = phases_and_lobes(w, max(0.2 * peak_abs, 1.5 * sigma), 0.5 * peak_abs)
            support = np.flatnonzero(np.abs(w) >= max(0.05 * peak_abs, sigma))
            duration_ms = (int(support[-1]) - int(support[0]) + 1) * 1e3 / self.emg_rate_hz if support.size else 0.0
            m8 = ms(8.0)
            mp_ms = main_phase_ms(w[max(0, i - m8) : i + m8 + 1], min(i, m8), self.emg_rate_hz)
            part = replace(cand, peak=peak, peak_abs=peak_abs, peak_ratio=peak_abs / sigma if sigma > 0 else 0.0,
                           amp_pp=float(np.ptp(w)), duration_ms=duration_ms, n_phases=int(n_phases))
            confidence = self._confidence(part, 0.0, None)
            self.counts["peeled"] += 1
            self.counts["events"] += 1
            self._ready.append(TwitchEvent(
                sample_index=peak, t_s=peak / self.emg_rate_hz, channel=c, channel_label=self.emg_labels[c],
                amplitude_uv=round(part.amp_pp, 3), duration_ms=round(duration_ms, 3), confidence=round(confidence, 4),
                detector=DETECTOR_VERSION, n_phases=int(n_phases), polarity=1 if w[i] >= 0 else -1,
                acc_response_mg=None if resp is None else round(resp, 4), unit_id=unit_id,
                counted=True, main_phase_ms=round(mp_ms, 3),
            ))

    def _quiet_stretch(self, cand: _Candidate) -> tuple[np.ndarray, np.ndarray] | None:
        """The cleaned signal over the local-background window before ``cand``
        (``lbg_window_ms`` ending 5 ms before its start) and which samples are twitch-free
        (outside +- ``bg_exclude_ms`` of the channel's recent brief candidates), as known
        at its decision (block-split free); None when the window is not all held."""
        window = self._window_before(cand, except_failed=False)
        return None if window is None else (window[0].copy(), window[1])

    def _window_before(self, cand: _Candidate, except_failed: bool) -> tuple[np.ndarray, np.ndarray] | None:
        """The cleaned signal over ``lbg_window_ms`` ending 5 ms before ``cand``'s start (a
        view of its background copy) and a mask that is False within +- ``bg_exclude_ms``
        of the channel's recent brief candidates (with ``except_failed``, not of those that
        failed the local-background test); None when the window is not all held. Reads
        only samples before the candidate's start (chunk invariance)."""
        cfg, c, ms = self.config, cand.channel, self._ms
        end = cand.start - ms(5)
        start = end - ms(cfg.lbg_window_ms)
        assert cand.background is not None  # set by _emg_features before any decision
        y = cand.background.read(start, end, 1)
        if y.size != end - start:
            return None
        keep = np.ones(y.size, dtype=bool)
        recent = self._recent_brief[c]
        supports = [(a, b) for a, b, low, *_ in recent if not low] if except_failed else [(a, b) for a, b, *_ in recent]
        _clear_supports(keep, start, supports, ms(cfg.bg_exclude_ms))
        return y, keep

    def _smoothed_clear(self, cand: _Candidate) -> bool:
        """Clear in the band a MUAP lives in (:mod:`.clarity`, detector 1.13): its peak
        smoothed over ~1-5 ms stands >= ``count_k`` smoothed-noise sigmas out of the
        cleaned signal before it (its background copy: the ``lbg_window_ms`` before its
        start). Only tried from ``count_smooth_min_k`` plain sigmas up."""
        cfg = self.config
        if (not cfg.count_smooth or cand.peak_ratio < cfg.count_smooth_min_k or cand.background is None
                or cand.shape is None or not cand.sigma > cfg.count_smooth_min_noise_uv):
            return False
        y = cand.background.read(cand.start - self._ms(5) - self._ms(cfg.lbg_window_ms), cand.start - self._ms(5), 1)
        z = smoothed_clarity(cand.shape, self.pre + 2, y, self.emg_rate_hz)
        cand.extra["smoothed_k"] = z
        return z >= cfg.count_k

    def _in_train(self, cand: _Candidate) -> bool:
        """Whether the candidate's waveform fired twice before it at a voluntary unit's
        intervals (:mod:`.train`), read from its copy of the cleaned signal (fixed at its
        decision position: block-split free)."""
        cfg, win = self.config, cand.before
        if self._train_isi is None or win is None or win.data.shape[1] == 0:
            return False
        y = win.data[0]
        return fires_in_train(y, cand.peak - win.start, self._train_half, cand.sigma, min_corr=cfg.train_min_corr,
                              amp_ratio=cfg.train_amp_ratio, min_k=cfg.train_min_k, isi=self._train_isi)

    def _confidence(self, cand: _Candidate, unit_match: float | None, acc_support: float | None) -> float:
        """0.15 + 0.5 SNR + 0.2 shape + 0.15 accelerometer support (0 if absent)."""
        cfg = self.config
        snr = float(np.clip((cand.peak_ratio / cfg.k - 1.0) / (cfg.snr_full - 1.0), 0.0, 1.0))
        regular = 1.0 if (1 <= cand.n_phases <= 4 and cand.duration_ms <= 25.0) else 0.0
        # unit_match: distance to the joined unit's template / the distance limit used (units.py)
        match = 0.0 if unit_match is None else float(np.clip(1.0 - unit_match, 0.0, 1.0))
        shape = 0.5 * regular + 0.5 * match
        acc = 0.0 if acc_support is None else acc_support
        return float(np.clip(0.15 + 0.5 * snr + 0.2 * shape + 0.15 * acc, 0.0, 1.0))

    # ================================================================== artefact bookkeeping
    def _reject(self, cand: _Candidate, kind: str, detail: str, hold_ms: float = 0.0) -> None:
        """Count ``cand`` as rejected as ``kind`` and report its artefact segment: its
        samples +- the merge gap, extended to ``hold_ms`` after its last sample (a pop's
        recovery)."""
        start, end = cand.start - self.gap, cand.last + self.gap + 1
        if hold_ms > 0:
            end = max(end, cand.last + self._ms(hold_ms))
        self.counts[f"rejected_{kind}"] += 1
        self._add_artefact(ArtefactSegment(kind, cand.channel, start, end, detail))

    def _add_artefact(self, seg: ArtefactSegment) -> None:
        self._artefacts.append(seg)
        chans = range(self.n_channels) if seg.channel is None else [seg.channel]
        for c in chans:
            self._n_artefact[c] += seg.end_index - seg.start_index

    def _emit_runs(self, kind: str, c: int, runs: list[tuple[int, int]], detail: str, shift: int = 0) -> None:
        for a, b in runs:
            self._add_artefact(ArtefactSegment(kind, c, a - shift, b, detail))

    def _close_runs(self) -> None:
        for c in range(self.n_channels):
            self._emit_runs("voluntary", c, self._vol_runs[c].close(), "sustained activity", shift=self.act_window)
            self._emit_runs("mains_burst", c, self._burst_runs[c].close(), "hum burst")
            self._emit_runs("lead_off", c, self._rail_runs[c].close(), "rail or hum")
            self._emit_runs("lead_off", c, self._flat_runs[c].close(), "flat signal")

    def _take(self) -> list[TwitchEvent]:
        out = sorted(self._ready, key=lambda e: (e.sample_index, e.channel))
        self._ready = []
        return out


class _Window:
    """A copy of some ring rows over stream indices [start, start + n): reads clipped to it."""

    __slots__ = ("start", "data")

    def __init__(self, start: int, data: np.ndarray) -> None:
        self.start, self.data = int(start), data

    def read(self, start: int, end: int, row: int) -> np.ndarray:
        a = max(0, start - self.start)
        b = min(self.data.shape[1], end - self.start)
        return self.data[row, a:b] if b > a else self.data[row, 0:0]


def _clear_supports(mask: np.ndarray, first: int, supports, margin: int) -> None:
    """Set ``mask`` (one flag per stream sample from index ``first``) False over each
    ``(start, last)`` support widened by ``margin`` samples on both sides."""
    for a, b in supports:
        lo, hi = max(0, a - margin - first), min(mask.size, b + margin + 1 - first)
        if hi > lo:
            mask[lo:hi] = False


def _quantile(v: np.ndarray, q: float) -> float:
    """``np.quantile(v, q)`` (method "linear") of a finite 1-d array without its per-call
    overhead (~0.2 ms): the same two order statistics (one ``np.partition``) and the same
    interpolation arithmetic, hence the same value."""
    n = v.shape[0]
    virtual = (n - 1) * q
    if virtual >= n - 1:  # q = 1 (or a single sample): the largest
        return float(np.max(v))
    lo = math.floor(virtual)
    part = np.partition(v, (lo, lo + 1))
    a, b = float(part[lo]), float(part[lo + 1])
    t = virtual - lo
    d = b - a
    return b - d * (1 - t) if t >= 0.5 else a + d * t
