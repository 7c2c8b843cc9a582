"""Build every good golden vector from its fields with the firmware encoder.

Run (MicroPython or CPython): ``encode_vectors.py FIRMWARE_DIR VECTOR_DIR``.
Prints ``name frame_hex wire_hex`` per good vector, sorted by name.
"""

import binascii
import json
import os
import sys

sys.path.insert(0, sys.argv[1])

import stream_desc  # noqa: E402
import wire_frames  # noqa: E402


def streams_of(fields):
    out = []
    for s in fields["streams"]:
        chans = tuple(
            stream_desc.Channel(c["kind"], c["label"], c["unit"], stream_desc.scale_bits_of(c["scale"]))
            for c in s["channels"]
        )
        out.append(stream_desc.Stream(s["stream_id"], s["sample_rate_mhz"], s["sample_format"],
                                      s["samples_per_frame"], chans))
    return out


def build(w, v):
    t = v["type"]
    f = v["fields"]
    if t == wire_frames.T_HELLO:
        return w.build_hello(f["boot_id"], f["device_id"], f["firmware_version"], streams_of(f))
    if t == wire_frames.T_DATA:
        rows = f["samples"]
        nch = len(rows[0])
        fmt = stream_desc.FORMAT_INT24 if f["stream_id"] == 0 else stream_desc.FORMAT_INT16
        rate = 2000000 if f["stream_id"] == 0 else 1000000
        s = stream_desc.Stream(f["stream_id"], rate, fmt, 20, tuple(range(nch)))
        flat = [x for row in rows for x in row]
        return w.build_data(s, f["first_sample_index"], f["t_first_us"], flat, 0, len(rows))
    if t == wire_frames.T_STATUS:
        return w.build_status(f["battery_mv"], f["battery_pct"], f["lead_off"],
                              f["dropped_samples"], f["free_heap"], f["uptime_ms"],
                              f.get("reset_cause", -1), f.get("frames_refused", 0))
    if t == wire_frames.T_REPLY:
        return w.build_reply(f["command"], f["result"], f["arg"])
    if t == wire_frames.T_TEXT:
        return w.build_text(f["text"])
    if t == wire_frames.T_TIMING:
        st = f["stamps"]
        for i, s in enumerate(st):
            w.timing_stamp(i, s["stream_id"], s["sample_index"], s["t_board_us"] // 1000, s["t_board_us"] % 1000)
        return w.build_timing(len(st))
    if t == wire_frames.T_COMMAND:
        return w.build_command(f["command"], f["arg"])
    raise ValueError("unknown type")


def main():
    vdir = sys.argv[2]
    names = sorted(n for n in os.listdir(vdir) if n.endswith(".json") and not n.startswith("bad_"))
    for name in names:
        with open(vdir + "/" + name) as fh:
            v = json.load(fh)
        w = wire_frames.FrameWriter(v["seq"])
        n = build(w, v)
        m = w.to_wire(n)
        fr = binascii.hexlify(bytes(w.frame[:n])).decode()
        wi = binascii.hexlify(bytes(w.wire[:m])).decode()
        print(v["name"], fr, wi)


main()
