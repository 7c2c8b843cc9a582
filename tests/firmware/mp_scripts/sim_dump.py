"""Print ground-truth samples and twitches of the simulator (MicroPython or CPython).

``sim_dump.py FIRMWARE_DIR SEED N_EMG N_ACC RATE_PER_MIN [name=int ...]`` prints one line per EMG row
(``e a b``), per accelerometer row (``a x y z``) and per twitch (``t i ch uv``).
"""

import sys

sys.path.insert(0, sys.argv[1])

import sim_frontend  # noqa: E402

seed = int(sys.argv[2])
opts = {}
for kv in sys.argv[6:]:  # more SimOptions as name=int (the chips' clock errors)
    k, v = kv.split("=")
    opts[k] = int(v)
emg, acc, tw = sim_frontend.ground_truth(seed, int(sys.argv[3]), int(sys.argv[4]),
                                         twitch_rate_per_min=float(sys.argv[5]), **opts)
out = sys.stdout
for r in emg:
    out.write("e %d %d\n" % r)
for r in acc:
    out.write("a %d %d %d\n" % r)
for t in tw:
    out.write("t %d %d %d\n" % t)
