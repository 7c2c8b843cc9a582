"""Which stream a BLE connection can carry: the rule of docs/protocol.md's budget.

The link is counted in link-layer packets: a connection event every ``interval`` carries
``PACKETS_PER_EVENT`` packets (4: a common limit of phones' and PCs' controllers; many
send more, none is promised). A frame that fits one notification (``MTU - 3`` bytes)
is one packet with Data Length Extension, which the firmware assumes when the MTU is
185 or more (ESP32's NimBLE and Bluetooth 4.2+ hosts have it; MicroPython does not say
whether it was negotiated); at a smaller MTU a notification is ``ceil((MTU + 4) / 27)``
packets. A frame that does not fit goes in the COBS fallback: ``ceil((len + 3) / (MTU - 3))``
notifications. The streams of a level need ``sum(frames/s x packets/frame)`` plus one
STATUS a second; a level fits when that is at most ``MARGIN_PCT`` (70 %) of what the
link carries (the rest: TEXT, REPLY, the backlog after a dropout, retransmissions).

``LEVELS``: decimation factors per stream (EMG, accelerometer), best first, chosen for
what each stream carries (docs/protocol.md gives the reasons):

0. EMG x1, ACC x1 (2 kHz, 1 kHz): the full stream;
1. EMG x1, ACC /4 (250 Hz): twitch movement is 5-50 Hz, 250 Hz keeps it with room;
2. EMG /2 (1 kHz), ACC /4: the detector's whole 20-450 Hz EMG band still fits;
3. EMG /4 (500 Hz), ACC /8 (125 Hz): the last resort (the detector uses 20-225 Hz;
   on the simulator 99 % of twitches found, amplitudes read at 86 %).

When not even level 3 fits, level 3 is used and what the link cannot take overflows the
frame ring into counted, marked gaps (never silently).

Pure arithmetic on stream descriptors; runs under MicroPython and CPython 3.10+.
"""

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef,misc]
        return x


LEVELS = ((1, 1), (1, 4), (2, 4), (4, 8))
PACKETS_PER_EVENT = const(4)
MARGIN_PCT = const(70)
DLE_MIN_MTU = const(185)
#: the interval assumed until the host reports one (the top of the 7.5-15 ms range the
#: device asks for; NimBLE reports an interval only when it is updated, not at connect)
ASSUMED_INTERVAL_125US = const(12)
_STATUS_LEN = const(30)  # a STATUS frame: 10 + 20 bytes
_FRAME_OVERHEAD = const(24)  # a DATA frame: header 6 + DATA header 14 + CRC 4


def packets_per_frame(frame_len: int, mtu: int) -> int:
    """Link-layer packets that carry one frame of ``frame_len`` bytes at ATT ``mtu``."""
    room = mtu - 3
    if frame_len <= room:
        if mtu >= DLE_MIN_MTU:
            return 1
        return (frame_len + 7 + 26) // 27  # ATT 3 + L2CAP 4 header bytes, 27-byte packets
    notes = (frame_len + 3 + room - 1) // room  # COBS: 2 delimiters + ~1 byte per 254
    per_note = 1 if mtu >= DLE_MIN_MTU else (mtu + 4 + 26) // 27
    return notes * per_note


def need_milli_packets(streams, factors, mtu: int) -> int:
    """Link-layer packets a second x 1000 that ``streams`` (base descriptors) need when
    each is decimated by its factor in ``factors``."""
    total = 1000 * packets_per_frame(_STATUS_LEN, mtu)
    for k in range(len(streams)):
        s = streams[k]
        f = factors[k] if k < len(factors) else 1
        spf = s.samples_per_frame
        frame_len = _FRAME_OVERHEAD + spf * s.n_channels * s.bytes_per_sample
        # frames a second x 1000 = rate_mhz / f / spf
        total += (s.sample_rate_mhz // f // spf) * packets_per_frame(frame_len, mtu)
    return total


def capacity_milli_packets(interval_125us: int) -> int:
    """Link-layer packets a second x 1000 at ``PACKETS_PER_EVENT`` per connection event."""
    if interval_125us <= 0:
        interval_125us = ASSUMED_INTERVAL_125US
    return PACKETS_PER_EVENT * 800000 // interval_125us  # events/s = 1000 / (1.25 x interval)


def choose(streams, mtu: int, interval_125us: int) -> int:
    """The best level (index into ``LEVELS``) whose need is within ``MARGIN_PCT`` of the
    capacity; the last level when none is."""
    room = capacity_milli_packets(interval_125us) * MARGIN_PCT // 100
    for level in range(len(LEVELS)):
        if need_milli_packets(streams, LEVELS[level], mtu) <= room:
            return level
    return len(LEVELS) - 1


def describe(streams, level: int) -> str:
    """``EMG 1000 Hz, ACC 250 Hz`` for ``level`` of ``streams`` (base descriptors)."""
    parts = []
    factors = LEVELS[level]
    for k in range(len(streams)):
        s = streams[k]
        f = factors[k] if k < len(factors) else 1
        name = s.channels[0].label.split(" ")[0] if s.channels else "stream %d" % s.stream_id
        parts.append("%s %d Hz" % (name, s.sample_rate_mhz // f // 1000))
    return ", ".join(parts)


def switch(acq, fe, level: int, reason: str) -> bool:
    """Stream at ``level`` from now on: ``acq`` is the ``acquire.Acquisition``, ``fe`` its
    ``decimate.DecimatingFrontEnd``. The samples taken so far go out at the old rate
    first, then a TEXT with ``reason``, then the HELLO of the new streams before any
    DATA at the new rate (a new run: indexes from 0). Between steps of the main loop,
    never in the sampling path (it allocates the new descriptors and, the first time, the
    filters). False, with a TEXT saying so, when the heap has no room for the filters."""
    try:
        fe.prepare(LEVELS[level])  # the filters, the first time: before anything changes
    except MemoryError:
        acq.send_text("link: no memory to lower the stream; it stays as it is (overflow counted)")
        return False
    streaming = acq.streaming
    if streaming:
        acq.stop()
    fe.set_factors(LEVELS[level])
    acq.streams = fe.streams
    acq.send_text(reason)
    if streaming:
        acq.start()
    else:
        acq.send_hello()
    return True
