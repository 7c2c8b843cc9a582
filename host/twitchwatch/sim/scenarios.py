"""Scenario parameters of the simulator, with their physiological / technical sources.

Every field of :class:`Scenario` is documented here and in ``docs/simulator.md``; the
numbers come from (short keys, full references in the docs):

- [SPiQE] Bashford et al., Clin Neurophysiol 2019;130:1083 and 2020;131:265 — biceps
  fasciculation potential (FP) rate in ALS median 40.5/min (IQR 10.6–79.4), benign
  fasciculation syndrome ~10–40x lower; 100 µV exclusion threshold.
- [dC-S] de Carvalho & Swash (FP firing in ALS vs benign; doublets ~30–35 ms; FPs in
  ALS larger / more complex after reinnervation).
- [design] docs/design-notes.md: sEMG hand muscle ≈ 17/min in both ALS and benign;
  needle FP 561 ± 367 µV, 12.6 ± 4.4 ms, ~3 phases, surface FPs smaller and smoother
  (tens–hundreds µV); good rest noise 1–5 µV RMS; single-MU accelerometer response
  1–3 mg, MMG band 5–100 Hz.
- [MMG] Orizio (Crit Rev Biomed Eng 1993) / Orizio et al. (J Electromyogr Kinesiol) —
  mechanomyogram of twitches: 5–50 Hz damped oscillation, electromechanical delay
  ~5–30 ms.
- [HR] Lo Conte, Merletti & Sandri, IEEE TBME 1994 — Hermite–Rodriguez functions as a
  model of surface MUAP shapes (order 1 biphasic, 2 triphasic).
- [ECG] ECG contamination of trunk / proximal EMG (e.g. Drake & Callaghan, J
  Electromyogr Kinesiol 2006): QRS 60–100 ms at 60–90 bpm, tens to ~100 µV; its
  amplitude follows breathing (Moody et al., Computers in Cardiology 1985, ECG-derived
  respiration): ±10 % at 0.25 Hz, 3 % per beat, QRS width 3 % per beat.
- [PVC] premature ventricular (ectopic) beats, textbook ECG: early, no P wave, wide
  (>= 120 ms) QRS of another shape, discordant T wave, compensatory pause.
- [mains] EN 50160 / NERC: 50 or 60 Hz, frequency within ±0.2 Hz in normal operation;
  odd harmonics (3rd, 5th) dominate.
- [surfMUAP] Merletti & Parker (eds.), Electromyography: Physiology, Engineering and
  Noninvasive Applications, IEEE Press/Wiley 2004 (surface MUAPs: the volume conductor
  low-passes the potential, main phase of several ms); Lindström & Magnusson, Proc IEEE
  1977;65:653 (the bipolar electrode's spatial filter, spectral dips at conduction
  velocity / inter-electrode distance, ~200-400 Hz); De Luca, J Appl Biomech
  1997;13:135 (surface EMG energy mostly 20-250 Hz, little above 400-500 Hz).
- [art] sEMG artefact reviews (e.g. De Luca et al., J Biomech 2010 on motion artefact
  below ~20 Hz; electrode "pops" as steps with exponential recovery).

Rates of twitches are per channel (sum over the channel's units) and count *primary*
discharges: doublet second spikes come on top (``rate * (1 + doublet_prob)``), and the
rate applies to the time outside voluntary / motion / lead-off segments (no twitch is
generated inside those, so benchmark scoring is unambiguous).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

Range = tuple[float, float]


@dataclass(frozen=True)
class Scenario:
    """All knobs of one simulated condition. Ranges are ``(low, high)`` drawn uniformly
    (log-uniformly for amplitudes) unless the field says otherwise."""

    name: str
    description: str = ""
    is_control: bool = False
    emg_rate_hz: float = 2000.0
    acc_rate_hz: float = 1000.0
    # --- motor units / twitches ---
    units_per_channel: int = 3
    twitch_rate_per_min: float = 6.0          # per channel, primary discharges [SPiQE][design]
    twitch_amplitude_uv: Range = (50.0, 400.0)  # unit nominal peak-to-peak [design]
    twitch_duration_ms: Range = (5.0, 25.0)     # surface MUAP duration [design][HR]
    #: floor of a unit's main-phase half-amplitude width (ms): a surface MUAP's main phase
    #: lasts >= ~2-3 ms at its base [surfMUAP]; 0 = no floor (the simulator before #19)
    twitch_main_phase_min_ms: float = 1.5
    shape_order_max: int = 2                  # highest Hermite–Rodriguez order (3 = polyphasic)
    jitter_frac: float = 0.05                 # per-discharge amplitude jitter, ± [brief]
    width_jitter_frac: float = 0.02           # per-discharge width jitter, ±
    doublet_prob: float = 0.03                # P(a discharge is followed by a second) [dC-S]
    doublet_interval_ms: Range = (30.0, 35.0)  # [design][dC-S]
    crosstalk_prob: float = 0.3               # P(unit is also seen on the other channel)
    crosstalk_gain: Range = (0.15, 0.6)       # amplitude there, relative to home channel
    mmg_prob: float = 0.7                     # P(unit has a visible mechanical response)
    mmg_mg: Range = (1.0, 3.0)                # single-MU accelerometer peak [design][MMG]
    mmg_freq_hz: Range = (5.0, 50.0)          # damped oscillation frequency [MMG]
    mmg_delay_ms: Range = (5.0, 30.0)         # from EMG onset [MMG]
    # --- EMG noise floor ---
    # RMS over the full band 0..fs/2; in the 20–450 Hz detection band the clean default
    # is ~2.4 µV RMS (white x 0.66, 1/f x 0.64), like the quietest real rest sEMG [design]
    noise_white_uv: float = 3.6               # white RMS, 0..fs/2
    noise_pink_uv: float = 1.0                # 1/f RMS, 0.5 Hz..fs/2
    # --- mains ---
    mains_hz: float = 50.0                    # 50 or 60 [mains]
    mains_uv: float = 1.5                     # fundamental amplitude (peak), channel 1
    mains_drift_hz: float = 0.2               # |f - mains_hz| <= this [mains]
    mains_harmonics: tuple[float, float] = (0.3, 0.1)  # 3rd, 5th relative amplitude
    mains_am_frac: float = 0.3                # slow amplitude modulation, ±
    mains_bursts_per_min: float = 0.0         # second-long rises of hum
    mains_burst_gain: Range = (10.0, 40.0)    # hum x gain at the burst's top
    # --- baseline wander (skin / electrode potentials, < 1 Hz) ---
    wander_uv: float = 10.0                   # RMS
    wander_cutoff_hz: float = 0.5
    # --- ECG ---
    ecg_uv: float = 0.0                       # R-peak amplitude, channel max; 0 = none [ECG]
    ecg_bpm: Range = (60.0, 90.0)
    ecg_qrs_ms: Range = (60.0, 100.0)
    ecg_ectopic_fraction: float = 0.0         # beats replaced by premature ventricular ones [PVC]
    # --- voluntary bursts ---
    voluntary_per_min: float = 0.0
    voluntary_s: Range = (0.3, 3.0)
    voluntary_rms_uv: Range = (20.0, 200.0)
    voluntary_ramp_s: Range = (0.05, 0.15)    # raised-cosine onset/offset of a contraction's EMG
    # --- walking (motion bouts) and gross movement ---
    walking_fraction: float = 0.0             # fraction of time in walking bouts
    walking_bout_s: Range = (15.0, 45.0)
    step_hz: Range = (1.0, 2.0)
    walk_acc_mg: Range = (200.0, 500.0)       # vertical peak per step
    walk_emg_uv: Range = (50.0, 400.0)        # slow deflection per step
    cable_spikes_per_s: float = 1.5           # sharp cable-motion spikes during walking
    cable_spike_uv: Range = (50.0, 400.0)
    cable_spikes_follow_motion: bool = True   # spike rate x the bout's movement envelope [art]
    gross_moves_per_min: float = 0.0
    # --- electrode pops and lead-off ---
    pops_per_min: float = 0.0
    pop_uv: Range = (200.0, 3000.0)
    pop_tau_ms: Range = (50.0, 200.0)
    lead_off_per_min: float = 0.0
    lead_off_s: Range = (1.0, 5.0)
    rail_uv: float = 400_000.0                # ADS1292R, Vref 2.42 V, gain 6
    # --- accelerometer ---
    acc_noise_mg: float = 1.5                 # white RMS per axis (LSM6DSO-like)
    acc_tremor_mg: float = 0.5                # physiological tremor 8–12 Hz, RMS
    acc_tilt_deg: float = 20.0                # max tilt of the starting orientation
    # the accelerometer's clock against the EMG's (sim/chipclock.py; their oscillators are
    # independent, ~1 % apart is normal): period error, start offset, slow wander
    acc_clock_ppm: float = 0.0
    acc_clock_offset_ms: float = 0.0
    acc_clock_wander_ppm: float = 0.0
    acc_clock_wander_s: float = 120.0

    def replace(self, **changes: Any) -> Scenario:
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}


_POOR = dict(noise_white_uv=18.0, noise_pink_uv=12.0, mains_uv=15.0, wander_uv=150.0)
_BASE = Scenario("benign_clean")


def _mk(name: str, description: str, **kw: object) -> Scenario:
    return _BASE.replace(name=name, description=description, **kw)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        _mk("benign_clean", "Benign rate (6/min/ch), clean skin contact (~2.4 µV RMS in 20–450 Hz), faint 50 Hz."),
        _mk("benign_poor_contact", "Benign rate; poor contact (~14 µV RMS in 20–450 Hz: 18 µV white + 12 µV 1/f "
            "full-band), 15 µV hum, 150 µV wander, occasional pops.", pops_per_min=0.5, **_POOR),
        _mk("als_like", "ALS-like: 40/min/ch (SPiQE biceps median), 5 units/ch, larger and more "
            "complex units (to 800 µV, polyphasic), more doublets and stronger MMG.",
            units_per_channel=5, twitch_rate_per_min=40.0, twitch_amplitude_uv=(50.0, 800.0),
            shape_order_max=3, doublet_prob=0.08, mmg_mg=(1.0, 10.0), noise_white_uv=4.0),
        _mk("doublets", "15/min/ch with 40 % doublets (second spike 30–35 ms later).",
            twitch_rate_per_min=15.0, doublet_prob=0.4),
        _mk("mains60_drift", "60 Hz mains, 30 µV with 3rd/5th harmonics, ±0.2 Hz drift, 50 % "
            "amplitude modulation, mains bursts 1/min.", mains_hz=60.0, mains_uv=30.0,
            mains_harmonics=(0.4, 0.15), mains_am_frac=0.5, mains_bursts_per_min=1.0,
            twitch_rate_per_min=10.0),
        _mk("baseline_wander", "Large baseline wander (500 µV RMS below 0.5 Hz).",
            wander_uv=500.0, twitch_rate_per_min=10.0),
        _mk("ecg_contaminated", "ECG: QRS 60–100 ms at 60–90 bpm, R up to 100 µV (trunk/proximal).",
            ecg_uv=100.0, twitch_rate_per_min=10.0),
        _mk("voluntary_bursts", "Voluntary bursts 4/min (0.3–3 s, 20–200 µV RMS) with a little "
            "accelerometer motion.", voluntary_per_min=4.0, twitch_rate_per_min=10.0),
        _mk("walking", "Walking bouts half the time (1–2 Hz steps, ±200–500 mg, slow EMG "
            "deflections and cable spikes) and gross movements.", walking_fraction=0.5,
            gross_moves_per_min=0.5, twitch_rate_per_min=10.0),
        _mk("electrode_pops", "Electrode pops 6/min (200 µV–3 mV steps, 50–200 ms decay) and "
            "lead-off 0.3/min.", pops_per_min=6.0, lead_off_per_min=0.3, twitch_rate_per_min=10.0),
        _mk("mixed", "Everything at moderate levels: 20/min/ch, doublets, hum with bursts, "
            "wander, ECG, voluntary, walking, gross movement, pops, lead-off.",
            units_per_channel=4, twitch_rate_per_min=20.0, doublet_prob=0.1, mains_uv=8.0,
            mains_bursts_per_min=0.5, wander_uv=100.0, ecg_uv=40.0, voluntary_per_min=2.0,
            walking_fraction=0.2, gross_moves_per_min=0.5, pops_per_min=1.0,
            lead_off_per_min=0.1, noise_white_uv=6.0, noise_pink_uv=3.0),
    ]
}

_CONTROL = dict(is_control=True, twitch_rate_per_min=0.0, doublet_prob=0.0)
for _name, _src, _desc in [
    ("control_clean", "benign_clean", "Twitch-free: clean contact."),
    ("control_poor_contact", "benign_poor_contact", "Twitch-free: poor contact, pops and lead-off."),
    ("control_voluntary", "voluntary_bursts", "Twitch-free: voluntary bursts."),
    ("control_walking", "walking", "Twitch-free: walking and gross movement."),
    ("control_ecg", "ecg_contaminated", "Twitch-free: ECG contamination."),
]:
    _extra: dict[str, object] = {"lead_off_per_min": 0.2} if _name == "control_poor_contact" else {}
    SCENARIOS[_name] = SCENARIOS[_src].replace(name=_name, description=_desc, **_CONTROL, **_extra)

TWITCH_SCENARIOS = tuple(n for n, s in SCENARIOS.items() if not s.is_control)
CONTROL_SCENARIOS = tuple(n for n, s in SCENARIOS.items() if s.is_control)
