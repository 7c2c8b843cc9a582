"""Write the golden byte vectors of docs/protocol.md.

This is a third, deliberately naive encoder written straight from the spec with
``struct`` (not the firmware's and not the host's code), so both real
implementations are checked against bytes neither of them produced.

Run: ``python tests/vectors/make_vectors.py`` (rewrites tests/vectors/*.json).
"""

import binascii
import json
import pathlib
import struct

HERE = pathlib.Path(__file__).parent


def cobs(data: bytes) -> bytes:
    out = bytearray()
    block = bytearray()
    for b in data:
        if b == 0:
            out.append(len(block) + 1)
            out += block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out.append(255)
                out += block
                block = bytearray()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def frame(ftype: int, seq: int, payload: bytes) -> bytes:
    body = struct.pack("<BBI", 1, ftype, seq) + payload
    return body + struct.pack("<I", binascii.crc32(body) & 0xFFFFFFFF)


def str8(s: str) -> bytes:
    b = s.encode()
    return bytes([len(b)]) + b


def hello_payload(f: dict) -> bytes:
    p = struct.pack("<I", f["boot_id"]) + str8(f["device_id"]) + str8(f["firmware_version"])
    p += bytes([len(f["streams"])])
    for s in f["streams"]:
        p += struct.pack("<BIBBB", s["stream_id"], s["sample_rate_mhz"], s["sample_format"],
                         s["samples_per_frame"], len(s["channels"]))
        for c in s["channels"]:
            p += bytes([c["kind"]]) + str8(c["label"]) + str8(c["unit"]) + struct.pack("<f", c["scale"])
    return p


def pack_sample(v: int, fmt: int) -> bytes:
    if fmt == 2:
        return struct.pack("<h", v)
    return (v & 0xFFFFFF).to_bytes(3, "little")


def data_payload(f: dict, fmt: int) -> bytes:
    p = struct.pack("<BBIQ", f["stream_id"], len(f["samples"]), f["first_sample_index"], f["t_first_us"])
    for row in f["samples"]:
        for v in row:
            p += pack_sample(v, fmt)
    return p


EMG_SCALE = 2.42 / 6 / 8388607 * 1e6  # ADS1292R, Vref 2.42 V, gain 6, µV per LSB
ACC_SCALE = 0.061  # LSM6DSO at ±2 g, mg per LSB
REFERENCE_STREAMS = [
    {"stream_id": 0, "sample_rate_mhz": 2_000_000, "sample_format": 3, "samples_per_frame": 20,
     "channels": [{"kind": 1, "label": "EMG 1", "unit": "uV", "scale": EMG_SCALE},
                  {"kind": 1, "label": "EMG 2", "unit": "uV", "scale": EMG_SCALE}]},
    {"stream_id": 1, "sample_rate_mhz": 1_000_000, "sample_format": 2, "samples_per_frame": 20,
     "channels": [{"kind": 2, "label": "ACC X", "unit": "mg", "scale": ACC_SCALE},
                  {"kind": 3, "label": "ACC Y", "unit": "mg", "scale": ACC_SCALE},
                  {"kind": 4, "label": "ACC Z", "unit": "mg", "scale": ACC_SCALE}]},
]


def f32(x: float) -> float:
    """The value a float32 field really carries."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def good_vectors():
    hello = {"boot_id": 0xC0FFEE01, "device_id": "sim-0001", "firmware_version": "0.1.0",
             "streams": REFERENCE_STREAMS}
    yield "hello_reference", "HELLO of the reference front end", 0x01, 0, hello, hello_payload(hello)

    emg = {"stream_id": 0, "first_sample_index": 40, "t_first_us": 20_000,
           "samples": [[0, -1], [8388607, -8388608], [1, 0x10], [-4200, 123456]]}
    yield "data_emg_int24", "DATA, EMG int24 with extremes", 0x02, 7, emg, data_payload(emg, 3)

    acc = {"stream_id": 1, "first_sample_index": 0xFFFFFFFE, "t_first_us": 4_294_967_294_000,
           "samples": [[32767, -32768, 0], [16, -16, 16393]]}
    yield "data_acc_int16", "DATA, accelerometer int16, index about to wrap", 0x02, 0xFFFFFFFF, acc, data_payload(acc, 2)

    # An EMG frame full of zeros exercises COBS on long zero runs.
    zeros = {"stream_id": 0, "first_sample_index": 0, "t_first_us": 0, "samples": [[0, 0]] * 20}
    yield "data_emg_zeros", "DATA, 20 zero samples (COBS worst case for zeros)", 0x02, 1, zeros, data_payload(zeros, 3)

    # The largest EMG frame: 36 samples x 2 channels x 3 bytes (240 bytes), with no zero byte.
    full = {"stream_id": 0, "first_sample_index": 0x01020304, "t_first_us": 0x01020304 * 10**9 // 2_000_000,
            "samples": [[0x111111 + i, -0x111111 - i] for i in range(36)]}
    yield "data_emg_full", "DATA, largest EMG frame (240 bytes, no zero byte)", 0x02, 0x01010101, full, data_payload(full, 3)

    status = {"battery_mv": 3987, "battery_pct": 81, "lead_off": 0b10, "dropped_samples": 12,
              "free_heap": 65536, "uptime_ms": 123456789}
    yield "status", "STATUS", 0x03, 42, status, struct.pack(
        "<HBBIII", status["battery_mv"], status["battery_pct"], status["lead_off"],
        status["dropped_samples"], status["free_heap"], status["uptime_ms"])

    # Firmware >= 0.2.0 appends reset_cause (u8), a reserved byte (0) and frames_refused (u16).
    status_ext = dict(status, reset_cause=3, frames_refused=7)
    yield "status_ext", "STATUS with reset_cause (watchdog) and frames_refused", 0x03, 43, status_ext, struct.pack(
        "<HBBIIIBBH", status["battery_mv"], status["battery_pct"], status["lead_off"],
        status["dropped_samples"], status["free_heap"], status["uptime_ms"], 3, 0, 7)

    # TIMING: per stream, a sample index and the board time (us, one clock) it had been
    # read by; the accelerometer's index is about to wrap, its board time past 2^32 ms/1000.
    timing = {"stamps": [{"stream_id": 0, "sample_index": 123_456, "t_board_us": 61_728_250},
                         {"stream_id": 1, "sample_index": 0xFFFFFFF0, "t_board_us": 3_000_000_123_457}]}
    yield "timing", "TIMING, one board-clock stamp per stream", 0x06, 44, timing, bytes([2]) + b"".join(
        struct.pack("<BIQ", s["stream_id"], s["sample_index"], s["t_board_us"]) for s in timing["stamps"])

    reply = {"command": 3, "result": 0, "arg": 0xDEADBEEF}
    yield "reply_ping", "REPLY to PING", 0x04, 43, reply, struct.pack("<BBI", 3, 0, 0xDEADBEEF)

    text = {"text": "boot: simulated front end, seed 1"}
    yield "text", "TEXT log line", 0x05, 1, text, text["text"].encode()
    longest = {"text": ("fasciculation " * 17)[:234]}
    yield "text_max", "TEXT of 234 bytes: a frame of exactly 244 bytes", 0x05, 2, longest, longest["text"].encode()

    for name, cmd, arg in (("start", 1, 0), ("stop", 2, 0), ("ping", 3, 0x12345678), ("hello", 4, 0),
                            ("selftest", 5, 3000), ("repl", 16, 0)):
        yield f"command_{name}", f"COMMAND {name.upper()} (host to device)", 0x81, 5, {"command": cmd, "arg": arg}, struct.pack("<BI", cmd, arg)


def bad_vectors(good: dict):
    """Wire byte strings the host must reject, with the error it must count."""
    data = bytes.fromhex(good["data_emg_int24"]["frame_hex"])
    flipped = bytearray(data)
    flipped[20] ^= 0x04
    yield "bad_crc", "one bit flipped in a sample", cobs(bytes(flipped)) + b"\0", "crc"
    yield "bad_short", "a 6-byte frame (shorter than the 10-byte minimum)", cobs(data[:6]) + b"\0", "too_short"
    yield "bad_cobs", "a COBS code byte pointing past the delimiter", bytes([0x09, 1, 2, 3]) + b"\0", "cobs"
    yield "bad_too_long", "300 non-zero bytes without a delimiter, then one", bytes([0x55]) * 300 + b"\0", "too_long"
    bad_ver = bytearray(data[:-4])
    bad_ver[0] = 2
    bad_ver += struct.pack("<I", binascii.crc32(bytes(bad_ver)) & 0xFFFFFFFF)
    yield "bad_version", "protocol version 2 (CRC correct)", cobs(bytes(bad_ver)) + b"\0", "version"
    unk = frame(0x7E, 3, b"\x01\x02")
    yield "bad_unknown_type", "frame type 0x7e (CRC correct)", cobs(unk) + b"\0", "unknown_type"
    # DATA whose payload length does not match n_samples (one byte missing), CRC correct.
    p = data_payload({"stream_id": 0, "first_sample_index": 0, "t_first_us": 0, "samples": [[1, 2], [3, 4]]}, 3)[:-1]
    yield "bad_data_length", "DATA payload one byte short of n_samples (CRC correct)", cobs(frame(0x02, 9, p)) + b"\0", "malformed"


def main():
    good = {}
    for name, desc, ftype, seq, fields, payload in good_vectors():
        fr = frame(ftype, seq, payload)
        assert 10 <= len(fr) <= 244, (name, len(fr))
        wire = cobs(fr) + b"\0"
        assert wire.count(0) == 1
        good[name] = {"name": name, "description": desc, "type": ftype, "seq": seq, "fields": fields,
                      "frame_hex": fr.hex(), "wire_hex": wire.hex()}
    for v in good.values():
        if v["type"] == 0x01:
            for s in v["fields"]["streams"]:
                for c in s["channels"]:
                    c["scale"] = f32(c["scale"])
        (HERE / f"{v['name']}.json").write_text(json.dumps(v, indent=1) + "\n")
    for name, desc, wire, error in bad_vectors(good):
        (HERE / f"{name}.json").write_text(json.dumps(
            {"name": name, "description": desc, "wire_hex": wire.hex(), "error": error}, indent=1) + "\n")
    assert len(good["data_emg_full"]["frame_hex"]) == 2 * 240
    assert len(good["text_max"]["frame_hex"]) == 2 * 244


if __name__ == "__main__":
    main()
