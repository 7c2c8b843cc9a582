"""Every tunable number of :class:`~twitchwatch.detect.TwitchDetector`, with its unit.

Defaults are the documented operating point (docs/detection.md). Times are in ms,
frequencies in Hz, EMG amplitudes in µV, accelerations in mg.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DetectorConfig:
    # --- preprocessing --------------------------------------------------------------
    band_hz: tuple[float, float] = (20.0, 450.0)  #: twitch band-pass (high edge <= 0.45 fs)
    filter_order: int = 2  #: Butterworth prototype order of the band-pass
    settle_ms: float = 50.0  #: blanking after the stream start and after each gap
    # mains: estimated every mains_window_ms from a Hann-windowed DFT over 49-51 / 59-61 Hz
    mains_window_ms: float = 1000.0
    mains_grid_step_hz: float = 0.05  #: frequency grid of the estimator
    mains_search_hz: float = 1.0  #: +- around 50 and 60 Hz
    mains_min_uv: float = 0.3  #: hum RMS (µV) below which no notch is applied
    mains_min_snr: float = 0.15  #: ... or below this fraction of the noise floor
    mains_notch_bw_hz: float = 2.0  #: -3 dB width of every notch
    mains_max_harmonic: int = 8  #: highest harmonic notched (if present and < 0.45 fs)
    #: transient gate of the notches (1.8): a sample whose cleaned value exceeds this many
    #: noise floors (the floor at the last mains window's end) is not fed to the notches'
    #: resonators, which free-run over it (no ringing after a large potential)
    mains_gate_k: float = 4.0
    #: ... and this many times the channel's hum RMS (the free-running resonators drift
    #: from a mistuned hum: a gate opened by the hum's own residue would feed itself)
    mains_gate_hum_ratio: float = 1.0
    mains_gate_hold_ms: float = 8.0  #: the gate closes after this long below the level
    mains_gate_max_ms: float = 40.0  #: longest gate; then none until this long below the level
    # --- noise floor ------------------------------------------------------------------
    noise_window_ms: float = 100.0  #: MAD window
    noise_history_windows: int = 31  #: running median over this many windows (3.1 s)
    min_noise_floor_uv: float = 0.1
    # --- candidates -------------------------------------------------------------------
    k: float = 5.0  #: threshold, robust sigmas of the cleaned signal
    merge_gap_ms: float = 8.0  #: supra-threshold samples closer than this are one candidate
    max_duration_ms: float = 30.0  #: longer half-peak spans are not brief potentials
    max_cluster_ms: float = 60.0  #: longer supra-threshold spans are sustained activity
    shape_pre_ms: float = 10.0  #: shape window before the peak (features, units)
    shape_post_ms: float = 15.0  #: shape window after the peak
    echo_window_ms: float = 60.0  #: filter-echo rule (see ThresholdDetector)
    echo_fraction: float = 0.5
    ring_window_ms: float = 200.0  #: notch ringing: within this after an event ...
    ring_fraction: float = 0.12  #: ... candidates below this fraction of its peak are rejected
    #: candidates on different channels whose peaks lie within +- this are one discharge
    #: (volume conduction is instantaneous; the copy is a widened, delayed-by-<1-ms version
    #: of the potential, so its largest lobe moves by a few ms at most); reported once, on
    #: the channel with the largest peak-to-peak amplitude
    crosstalk_window_ms: float = 4.0
    #: the merge waits only for candidates of other channels decided (EMG context
    #: complete) at most this long after the candidate's own decision position; a later
    #: one that is the same discharge as it is dropped as a copy (latency: a long QRS on
    #: another channel no longer holds a twitch back)
    crosstalk_max_wait_ms: float = 15.0
    # --- sustained activity (voluntary) -----------------------------------------------
    activity_k: float = 2.5  #: |y| > activity_k * sigma counts as active
    activity_window_ms: float = 150.0  #: active fraction measured over this window
    activity_fraction: float = 0.4  #: active fraction in the window before a candidate: ongoing activity
    sustained_fraction: float = 0.5  #: trailing active fraction above which a voluntary segment runs
    activity_min_ms: float = 100.0  #: sustained activity must last this long to be a segment
    voluntary_holdoff_ms: float = 60.0  #: candidates this soon after it are rejected too
    #: background activity: active fraction over bg_window_ms before a candidate, outside
    #: the supports (+- bg_exclude_ms) of the channel's recent brief candidates; at or above
    #: bg_fraction the candidate is part of (weak) sustained activity
    bg_window_ms: float = 150.0
    bg_exclude_ms: float = 25.0
    bg_fraction: float = 0.25
    #: local background: a candidate is a twitch only if its peak |y| >= lbg_factor x the
    #: lbg_quantile of |y| over the lbg_window_ms before it (ending 5 ms before its start),
    #: outside the +- bg_exclude_ms supports of recent brief candidates that passed this
    #: test (one that did not stand out is itself background); not applied when less than
    #: half the window remains; lbg_factor <= 0 disables it. lbg_factor = k / 2: a k-sigma
    #: candidate fails only if the background's q95 exceeds 2 sigma, and Gaussian noise at
    #: the floor has q95(|y|) = 1.96 sigma, so the test bites only where the background is
    #: busier than the noise floor says (a 5.5 sigma potential fails once q95 > 2.2 sigma,
    #: an 8 sigma one once q95 > 3.2 sigma). The real-EMG false events sit at 5-6 sigma over
    #: q95 ~ 3.7 sigma (ratio ~1.5), true hits at 10-45 sigma. (2.0 kept too many of them:
    #: injected-real precision 0.37 vs 0.59.) Count: counts["low_vs_background"].
    lbg_window_ms: float = 200.0
    lbg_quantile: float = 0.95
    lbg_factor: float = 2.5
    lookahead_ms: float = 25.0  #: post-candidate window checked for ongoing activity (<= POST_CONTEXT_MS: latency)
    lookahead_fraction: float = 0.6
    #: weak onset: >= lookahead_low_fraction of the same window above max(lookahead_low_k
    #: sigma, lookahead_low_peak x its peak), i.e. the window's median |y| is there: a robust
    #: sigma >= 2.2x the floor (>= ~2 sigma RMS of added activity). 0.25 x peak is the level
    #: that delimits the potential itself (duration), so its own tail does not count.
    lookahead_low_k: float = 1.5
    lookahead_low_peak: float = 0.25
    lookahead_low_fraction: float = 0.5
    #: rule 10c (1.16): a candidate starting inside the lookahead window of the channel's
    #: previous candidate that rule 10 rejected as a contraction's onset (activity after it)
    #: is part of that activity: the engine judged the window busy, and this potential is
    #: what made it busy (or lies in it). Rejected as voluntary.
    onset_follow: bool = True
    #: activity on another channel (rule 10b): >= cross_fraction of another channel's
    #: samples above lookahead_low_k x its sigma over the background window before the
    #: candidate, or over the lookahead window after it (the copy of the candidate, below
    #: lookahead_low_peak x its peak, left out): that channel alone shows a contraction by
    #: rule 10's weak-onset standard; and the candidate's own channel shows some activity:
    #: >= cross_own_fraction above lookahead_low_k sigma over its background window (recent
    #: brief candidates left out, as rule 9) or its lookahead window (as rule 10's weak
    #: test). Noise at the floor has 13 % of samples above 1.5 sigma; 25 % means a robust
    #: sigma >= 1.3x the floor. 0 disables.
    cross_fraction: float = 0.5
    cross_own_fraction: float = 0.25
    # --- movement, pops, lead-off (raw / low band) -------------------------------------
    low_band_hz: tuple[float, float] = (1.0, 20.0)  #: slow-deflection band of the raw EMG
    motion_low_uv: float = 150.0  #: |low band| above this (and > motion_low_k sigma) = slow deflection
    motion_low_k: float = 30.0
    acc_motion_mg: float = 50.0  #: gross motion: |acc - gravity| (0.5-20 Hz) above this
    #: motion onset: the same motion band within MOTION_WINDOW_MS above acc_onset_mg and
    #: >= acc_onset_ratio x its median over the acc_onset_base_ms before that window (rising
    #: from a quieter baseline: the start of a movement, whose acceleration is still below
    #: acc_motion_mg while cable/skin artefacts and the first muscle activity already reach
    #: the EMG). 10 mg is > 3x a single motor unit's mechanical response (1-3 mg) plus
    #: resting noise; the ratio leaves out the decay after a movement (level falling).
    #: 0 disables.
    acc_onset_mg: float = 10.0
    acc_onset_ratio: float = 4.0
    acc_onset_base_ms: float = 1000.0
    #: rules 6 and 6b read the motion band from 150 ms before the peak up to the potential's
    #: onset (its first sample above threshold) instead of 25 ms after the peak: a twitch's
    #: own mechanical response (a brief transient of a few to tens of mg, starting >= 5 ms
    #: after the EMG onset) is evidence for it, not movement (issue #19). False: the old window.
    motion_ends_at_onset: bool = True
    motion_holdoff_ms: float = 150.0  #: motion segments are extended this much both sides
    wide_ratio: float = 1.0  #: low-band p-p >= this x cleaned p-p: a wide (not brief) potential
    pop_step_fraction: float = 0.5  #: low-band level step across the candidate >= this x its p-p = pop
    pop_holdoff_ms: float = 300.0  #: candidates this soon after a pop are rejected
    #: rule 5b (1.12): a candidate whose cleaned waveform is explained (R^2 >= pop_fit_r2) by
    #: the band-pass image of a step with exponential recovery (an electrode pop through any
    #: front end, popshape.py), and whose low band steps the same way by >=
    #: pop_fit_step_fraction x its p-p, is a step (rule 5: a pop or a heartbeat's onset).
    #: 0 disables.
    pop_fit_r2: float = 0.9
    pop_fit_step_fraction: float = 0.1
    #: faint step (rule 11b, 1.9): a candidate that passed every other rule, whose low-band
    #: step (rule 5's measure) is >= this x its p-p although under rule 5's 5 sigma, is the
    #: band-pass image of a small baseline step (a half-cell / skin potential shift, e.g. the
    #: skin stretching as a movement starts; a pure step gives ~0.66), not a motor-unit
    #: potential, whose own low band stays under that (at most 0.43x over the 4186 twitches
    #: detected on the development seeds). Rejected as a pop without the recovery holdoff
    #: (too small a step to disturb what follows). 0 disables.
    faint_step_fraction: float = 0.5
    rail_uv: float = 390000.0  #: |raw| at or above this is at the rail (lead off)
    flat_uv: float = 0.05  #: window sigma below this is flat (lead off)
    leadoff_hum_uv: float = 2000.0  #: hum RMS above this means lead off
    # --- mains bursts -------------------------------------------------------------------
    hum_env_ms: float = 30.0  #: envelope time constant of the hum
    hum_burst_ratio: float = 4.0  #: hum envelope above ratio x its slow level ...
    hum_burst_k: float = 3.0  #: ... and above hum_burst_k x noise floor = burst
    hum_slow_s: float = 5.0  #: time constant of the slow hum level
    # --- ECG --------------------------------------------------------------------------
    ecg_rr_s: tuple[float, float] = (0.4, 1.5)  #: plausible RR intervals
    ecg_rr_tolerance: float = 0.1  #: relative RR regularity
    ecg_min_corr: float = 0.8  #: shape correlation with the ECG template
    #: QRS shape window on the low band: fiducial - (this + 25 ms) .. fiducial + ecg_align_ms[1] + 15 ms
    ecg_window_ms: float = 60.0
    #: the beat's fiducial point: extremum of |low band| from peak - [0] to peak + [1] ms
    #: ([1] + 15 ms <= POST_CONTEXT_MS: the window must end within the candidate's context)
    ecg_align_ms: tuple[float, float] = (30.0, 5.0)
    #: a candidate whose fiducial lies within this of the last ECG beat's is the same complex
    ecg_same_beat_ms: float = 15.0
    #: a step (rule 5/5b) whose peak lies 0..this after the channel's last recognised beat's
    #: R wave is that beat's end (its S wave and J point, where the low band swings back),
    #: not an electrode pop: ECG, no pop hold-off (detector 1.13). A QRS lasts at most
    #: ~120 ms (wider is a bundle-branch block), the R wave at or after its first third, so
    #: the complex ends <= ~80 ms after the R; +20 ms for the J point. 0 disables.
    ecg_tail_ms: float = 100.0
    #: once the rhythm is learned, a template-matching candidate k = 1..this RRs after the
    #: last beat (or the last template match) is a beat; tolerance ecg_rr_tolerance x
    #: sqrt(k) x RR (beat-time errors add up like a random walk). 6: the window (2 x 0.1 x
    #: sqrt(k) RR) stays within half the RR, so the timing still carries evidence
    ecg_max_missed: int = 6
    ecg_rr_learn: float = 0.25  #: RR estimate moves this fraction towards each one-beat interval
    #: twitch on a beat (detector 1.10, :mod:`.onbeat`): the cleaned signal's beat shape is
    #: learned over fiducial - [0] .. fiducial + [1] ms from beats with nothing on them;
    #: once ecg_template_beats have taught a sample it is used; later beats weigh
    #: ecg_template_learn. A recognised beat whose residual (the beat fitted by least
    #: squares and subtracted) peaks inside the candidate at >= on_beat_k sigma and >=
    #: on_beat_fraction x the fitted beat's peak, and stays under half that height
    #: outside +-on_beat_half_ms of it, and the beat's fitted gain is <= on_beat_max_gain
    #: (breathing moves a beat by ~10-20 %), carries a twitch. on_beat_k <= 0 disables.
    ecg_template_ms: tuple[float, float] = (60.0, 60.0)
    ecg_template_beats: int = 8
    ecg_template_learn: float = 0.1
    on_beat_k: float = 10.0
    on_beat_fraction: float = 0.25
    on_beat_half_ms: float = 12.5
    on_beat_max_gain: float = 2.0
    #: a sustained cluster whose low-band extremum lies on the learned rhythm is fitted the
    #: same way (a twitch merged with a wide QRS into one long cluster; detector 1.14)
    on_beat_merged: bool = True
    #: ... reported only when the beat is decided no later than this after the twitch
    #: alone would have been (the engine's latency: a beat's candidate is decided
    #: lookahead_ms after the beat ends, too late for a twitch early in a long QRS):
    #: later ones are counted (counts["on_beat_late"]), not reported
    on_beat_max_delay_ms: float = 0.0
    # --- accelerometer fusion -----------------------------------------------------------
    acc_band_hz: tuple[float, float] = (5.0, 50.0)  #: mechanomyogram band
    #: response window after the peak: twitch MMG starts 5-30 ms after EMG onset (electromechanical
    #: delay), i.e. mostly within 25 ms of the EMG peak; ends at ACC_CONTEXT_MS (latency)
    acc_window_ms: tuple[float, float] = (5.0, 25.0)
    acc_k: float = 3.0  #: response must exceed acc_k x the acc noise floor
    acc_min_mg: float = 0.5
    # --- units --------------------------------------------------------------------------
    unit_max_distance: float = 0.35  #: normalised shape distance to join a unit
    #: the limit widens with the shape's noise: sqrt(0.35² + factor · L σ² / signal energy)
    #: (units.py: two noisy copies of one shape differ by ~2 ρ), at most unit_max_noisy_distance
    unit_noise_factor: float = 3.0
    unit_max_noisy_distance: float = 0.7  #: ≈ correlation 0.75
    unit_max_amp_ratio: float = 1.6  #: amplitude ratio bound to join a unit
    unit_learn_rate: float = 0.1  #: template update weight
    max_units: int = 64  #: per channel; the least recently seen unit is recycled
    # --- superimposed potentials taken apart (peel.py, matched.py) ---------------------
    #: a twitch's cleaned waveform is explained as a sum of the templates of units that
    #: fired clearly at least peel_min_firings times (greedy matching pursuit on the
    #: whitened signal, threshold for peel_false_per_min false alarms per minute); a
    #: template placed inside the candidate's own span (its start .. its last significant
    #: sample + merge_gap_ms), >= peel_min_sep_ms from the event's peak and from the other
    #: placements, at a gain within peel_amp_ratio of its unit's size, is a second
    #: discharge: reported as that unit's firing, counted. Only when the templates explain
    #: the window (residual energy beyond the noise's <= peel_max_excess x the weakest
    #: placement's).
    #: peel_false_per_min 0 disables
    peel_false_per_min: float = 0.2
    peel_min_firings: int = 3
    peel_amp_ratio: tuple[float, float] = (0.75, 1.33)
    peel_max_excess: float = 0.2
    #: rule 1's exception: a would-be filter echo that one clear unit's template explains
    #: (one placement at its peak, residual as above) is that unit's firing, not ringing
    peel_echo: bool = True
    peel_min_sep_ms: float = 3.0
    peel_max_components: int = 2  #: placements per twitch (the twitch and one other firing)
    peel_same_unit_ms: float = 5.0  #: least interval between two firings of one unit (a doublet's)
    #: a firing differs from its unit's template by up to this fraction of its norm
    #: (sub-sample alignment at 1-4 kHz, the discharge's own jitter): a later placement
    #: must beat what that error of the earlier ones can produce (peel.py)
    peel_mismatch: float = 0.2
    mf_order: int = 8  #: AR order of the channel's noise whitener (matched.py)
    mf_learn: float = 0.2  #: weight of each twitch-free stretch in the noise estimate
    #: detection in a MUAP's band (1.18, :mod:`.mfdetect`): a bank of Hermite-Rodriguez
    #: matched filters (biphasic, triphasic; lambda 0.75-3 ms) on the cleaned signal, each
    #: output over its own robust sigma; where that z reaches the threshold for
    #: mf_detect_false_per_min false alarms per minute and channel (one test per sample,
    #: template and polarity) and no sample within merge_gap_ms crosses k sigma (the plain
    #: candidate is there), a candidate is made and goes through every rule. Only on
    #: channels whose floor is above count_smooth_min_noise_uv (poor contact: broad-band
    #: interface noise, Gaussian, where the stated rate holds; under good contact real rest
    #: EMG holds low-level potentials the rate does not describe). Counted (clear) at z for
    #: mf_count_false_per_min. 0 disables.
    mf_detect_false_per_min: float = 0.2
    mf_count_false_per_min: float = 0.02
    mf_gap_ms: float = 3.0  #: runs of z above threshold merge across this gap
    #: ... and only while that floor is broad-band electrode noise (:mod:`.broadband`): over
    #: the floor's history the median RMS / robust sigma <= mf_gate_max_rms_ratio (Gaussian,
    #: not the spiky potentials of muscle activity), the median share of its power above
    #: mf_gate_edge_hz >= mf_gate_min_hf_share (not a contraction's < 250-Hz spectrum), the
    #: window sigmas' spread ln(p75 / p25) <= mf_gate_max_spread (steady), and the floor >=
    #: mf_gate_lattice_k x the ADC step estimated from the samples (not quantisation)
    mf_gate_edge_hz: float = 250.0
    mf_gate_min_hf_share: float = 0.06
    mf_gate_max_rms_ratio: float = 1.10
    mf_gate_max_spread: float = 0.25
    mf_gate_lattice_k: float = 2.0
    # --- confidence ---------------------------------------------------------------------
    snr_full: float = 4.0  #: peak/threshold ratio giving full SNR credit
    # --- what counts (docs/detection.md, *What counts*) ----------------------------------
    #: a twitch counts in rates, the dashboard, reports and statistics when it is plausible
    #: (below) and either clear (peak >= count_k sigma: Gaussian noise at the floor crosses
    #: 8 sigma about once in 1e15 samples, real rest EMG's low-level blips sit at 5-6
    #: sigma), or joins a unit that fired clearly before (its shape is known), or the
    #: accelerometer shows a mechanical response right after it. Others are candidates
    #: (``counted`` False): kept in the store, not shown as twitches. 0 counts every twitch.
    count_k: float = 8.0
    #: ... clear also when the peak smoothed over ~1-5 ms (Hann windows, :mod:`.clarity`)
    #: stands >= count_k sigmas of the equally smoothed noise before it out of it: a MUAP's
    #: energy lies below ~250 Hz, broad-band noise (poor contact) is averaged down
    #: (detector 1.13). Tried from count_smooth_min_k plain sigmas up. False disables.
    count_smooth: bool = True
    count_smooth_min_k: float = 5.0
    #: ... only on a channel whose noise floor is above good skin contact's 1-5 µV RMS
    #: (docs/design-notes): there broad-band interface noise dominates; under good contact
    #: real rest EMG holds low-level potentials at 5-8 sigma that the plain 8 sigma keeps out
    count_smooth_min_noise_uv: float = 5.0
    #: plausibility: the main phase (half-amplitude width in the band-passed signal) must be
    #: at least this many times the band-pass's own response to a single sample (the width
    #: a potential with no width of its own is seen with: 1.29 / 0.97 / 0.78 ms at 1 / 2 / 4
    #: kHz; a one-sample spike measures 0.97-1.03 of it); narrower is a spike, not a
    #: motor-unit potential. 0 disables.
    min_main_phase_ratio: float = 1.1
    #: plausibility: a potential whose own waveform (+- train_half_ms) fired twice before it
    #: at a voluntary motor unit's interspike intervals (one train_isi_ms before it, another
    #: train_isi_ms before that) is a discharge of a regularly firing unit (a weak
    #: contraction, recruitment or de-recruitment at a burst's edge), not a fasciculation
    #: (train.py; docs/detection.md 3a). A recurrence correlates >= train_min_corr, has a
    #: least-squares gain within train_amp_ratio and a peak >= train_min_k sigma.
    #: train_min_corr 0 disables.
    train_min_corr: float = 0.8
    train_amp_ratio: tuple[float, float] = (0.4, 2.5)
    train_min_k: float = 3.0
    train_isi_ms: tuple[float, float] = (40.0, 200.0)
    train_half_ms: float = 4.0
