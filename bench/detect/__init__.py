"""Helpers of the scored detection benchmark (``bench/detect_bench.py``).

- :mod:`.scoring`: one-to-one event matching and the metrics built on it.
- :mod:`.baselines`: the detectors we compare against (NeuroKit2, BioSPPy, MAD threshold),
  run offline on whole arrays as their users would.
- :mod:`.runners`: our streaming detectors fed block by block (throughput, latency).
- :mod:`.real`: loaders for the real recordings in ``../shared/data/real``.
"""
