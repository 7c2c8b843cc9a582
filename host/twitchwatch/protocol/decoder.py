"""The streaming decoder: serial bytes in, typed messages out.

:class:`FrameDecoder` splits the byte stream on ``0x00``, COBS-decodes and checks
each frame, tracks ``seq`` and every stream's sample index, and returns
:mod:`~twitchwatch.protocol.messages`.  It never raises on input bytes: every
rejected frame is dropped and counted in :class:`DecoderStats`.

Order (docs/protocol.md, "Duplicates, reordering and restarts"): frames are put
back in ``seq`` order before their content is read.  A frame whose ``seq`` was
already handed on is a duplicate (dropped, counted); one that arrives ahead of a
missing ``seq`` waits, at most :data:`REORDER_WINDOW` frames, for the missing one;
once more are waiting the missing frames are declared lost and counted.  So a
duplicated or swapped frame never looks like a stream restart: a restart is only
recognised from what the device says (a HELLO, a new ``boot_id``), or from a
sample index going back in frames that are in ``seq`` order.  Call :meth:`FrameDecoder.flush`
at the end of the stream for the frames still waiting.

It is chunk-size invariant: the same bytes fed in any split yield the same
messages (apart from ``host_time_s``, which is the time of the chunk that
completed each frame).
"""

from __future__ import annotations

import binascii
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from . import cobs
from .errors import MalformedPayload
from .frame import MAX_FRAME_BYTES, MAX_WIRE_BYTES, MIN_FRAME_BYTES, PROTOCOL_VERSION, FrameType
from .messages import DeviceReset, Gap, Hello, Message, StreamInfo, StreamRestart, new_sample_block
from .payloads import DATA_HEADER, DATA_HEADER_BYTES, parse_hello, parse_reply, parse_status, parse_text

# Longest zero-free segment that can still be a frame: 244 bytes + 1 COBS code byte.
MAX_SEGMENT_BYTES = MAX_WIRE_BYTES - 1  # 245
# binascii.crc32(frame) over a frame *including* its little-endian CRC is this
# constant for every correct frame (the CRC-32 residue), so one call checks it.
_CRC_RESIDUE = 0x2144DF1C
_HEADER = struct.Struct("<BBI")
_DATA_AT = struct.Struct("<6xBBIQ")  # DATA header read straight from the frame
_SAMPLES_OFFSET = 6 + DATA_HEADER_BYTES  # 20: first sample byte in the frame
_I32 = np.dtype("<i4")
_I16 = np.dtype("<i2")
_HALF = 1 << 31
_WRAP = 1 << 32
#: frames held while a ``seq`` is missing before it is declared lost (150 frames/s
#: with the reference board: ~0.1 s of latency, and only while a frame is missing)
REORDER_WINDOW = 16
#: released ``seq`` numbers remembered to tell a duplicate from a new sequence
_RECENT_SEQS = 4 * REORDER_WINDOW


@dataclass(slots=True)
class DecoderStats:
    """Counters of a :class:`FrameDecoder` since it was created (all ints).

    Framing (each rejected frame counts once, in the first check it fails):
        bytes_in: bytes fed.
        frames_ok: frames with a correct CRC, version and known type.
        garbage_bytes: wire bytes (delimiters excluded) dropped by a framing
            error: too_long, cobs_errors, too_short, crc_errors.
        cobs_errors, crc_errors, too_short (< 10 bytes decoded),
        too_long (> 244 bytes decoded or > 245 bytes without a delimiter),
        version_errors, unknown_type (incl. COMMAND frames, host-to-device),
        malformed (payload does not fit its type, or DATA of a stream the HELLO
        does not describe).
    Content:
        data_before_hello: DATA frames dropped because no HELLO was seen yet.
        seq_gaps: times ``seq`` did not follow the previous frame's (+1).
        frames_lost: frames missing according to ``seq`` (forward jumps only).
        samples_lost: samples missing according to sample indices (sum of Gaps).
        out_of_order: DATA frames (in ``seq`` order) dropped because their index
            went backward with no HELLO or lost frame before them.
        stream_restarts: streams whose index restarted after a HELLO or a seq gap.
        resets: HELLOs with a new boot_id (DeviceReset messages).
        duplicates: frames dropped because their ``seq`` was already handed on
            (or is already waiting).
        reordered: frames that arrived after a later frame (within the window)
            and were put back in their place.
        late_frames: frames dropped because they came after their ``seq`` had
            been declared lost (more than :data:`REORDER_WINDOW` frames late).
        seq_restarts: times the device's ``seq`` started again from a number
            already passed, without a HELLO (a reset whose HELLO was lost):
            :data:`REORDER_WINDOW` frames in a row numbered so.
    """

    bytes_in: int = 0
    frames_ok: int = 0
    garbage_bytes: int = 0
    cobs_errors: int = 0
    crc_errors: int = 0
    too_short: int = 0
    too_long: int = 0
    version_errors: int = 0
    unknown_type: int = 0
    malformed: int = 0
    data_before_hello: int = 0
    seq_gaps: int = 0
    frames_lost: int = 0
    samples_lost: int = 0
    out_of_order: int = 0
    stream_restarts: int = 0
    resets: int = 0
    duplicates: int = 0
    reordered: int = 0
    late_frames: int = 0
    seq_restarts: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def errors(self) -> int:
        """Frames rejected by any framing or payload check."""
        return (self.cobs_errors + self.crc_errors + self.too_short + self.too_long
                + self.version_errors + self.unknown_type + self.malformed)


class _StreamState:
    __slots__ = ("info", "n_channels", "fmt", "frame_len_per_sample", "next_index", "may_restart")

    def __init__(self, info: StreamInfo, next_index: int | None) -> None:
        self.info = info
        self.n_channels = len(info.channels)
        self.fmt = int(info.sample_format)
        self.frame_len_per_sample = self.n_channels * self.fmt
        self.next_index = next_index  # unwrapped index expected next; None: no frame yet
        self.may_restart = True  # a backward index is a restart, not out-of-order


class FrameDecoder:
    """Decode the serial byte stream of one device (docs/protocol.md, COBS framing).

    Usage::

        dec = FrameDecoder()
        for msg in dec.feed(chunk, host_time_s):
            ...
        dec.stats.as_dict()

    Not thread-safe; one decoder per link.
    """

    def __init__(self, cobs_backend: Callable[[bytes], bytes | bytearray | None] | None = None) -> None:
        """``cobs_backend``: segment decoder with :func:`cobs.cobs_decode_short`'s
        contract (None on error); default :data:`cobs.decode_segment`."""
        self._decode_segment = cobs_backend or cobs.decode_segment
        self.stats = DecoderStats()
        self._pending = b""  # bytes after the last delimiter
        self._discarding = False  # the current segment overflowed; drop to next 0x00
        self._hello: Hello | None = None
        self._streams: dict[int, _StreamState] = {}
        self._last_seq: int | None = None  # seq of the last frame handed on
        # reorder stage: frames ahead of a missing seq, by seq: (type, frame, size, host time)
        self._held: dict[int, tuple[int, bytes | bytearray, int, float]] = {}
        self._recent: deque[int] = deque(maxlen=_RECENT_SEQS)  # seqs handed on, newest last
        self._recent_crc: dict[int, bytes] = {}  # their CRC bytes: a duplicate is the same frame
        self._skipped: deque[int] = deque(maxlen=_RECENT_SEQS)  # seqs declared lost
        # consecutive frames behind the last seq that were never seen: (type, frame, size, host time, seq)
        self._foreign: list[tuple[int, bytes | bytearray, int, float, int]] = []
        self._held_passes = 0  # frames handed on in order while frames were held
        self._old_boots: deque[int] = deque(maxlen=8)  # boot_ids of resets already seen
        # DATA frames of the current feed() whose samples are unpacked together (one
        # numpy pass per stream): (position in out, stream state, frame, unwrapped
        # first index, t_first_us, seq, host time); out holds None there until _unpack_batch.
        self._batch: list[tuple[int, _StreamState, bytes | bytearray, int, int, int, float]] = []

    @property
    def hello(self) -> Hello | None:
        """The last HELLO accepted, or None."""
        return self._hello

    def feed(self, data: bytes, host_time_s: float) -> list[Message]:
        """Feed received bytes; return the messages of every frame they complete.

        Args:
            data: bytes as received (any chunking).
            host_time_s: host receive time of ``data`` (``time.monotonic`` s);
                stamped on the messages of the frames this chunk completes.

        Never raises on any content of ``data``.
        """
        out: list[Message] = []
        if not data:
            return out
        stats = self.stats
        stats.bytes_in += len(data)
        data = bytes(data)
        if b"\0" not in data:  # no frame ends here (common for small reads)
            self._grow_pending(data)
            return out
        parts = data.split(b"\0")
        tail = parts.pop()
        if parts:
            first = parts[0]
            if self._discarding:
                stats.garbage_bytes += len(first)
                self._discarding = False
                parts[0] = b""
            elif self._pending:
                parts[0] = self._pending + first
            self._pending = b""
            segment = self._segment
            for seg in parts:
                if seg:
                    segment(seg, host_time_s, out)
            if self._batch:
                self._unpack_batch(out)
        self._grow_pending(tail)
        return out

    def flush(self) -> list[Message]:
        """The end of the stream: hand on the frames still waiting for a missing
        ``seq`` (the missing ones are counted lost); a frame cut off by the end
        is dropped as it was.  Feeding may go on afterwards."""
        out: list[Message] = []
        self._release_held(out, everything=True)
        if self._batch:
            self._unpack_batch(out)
        return out

    @property
    def frames_waiting(self) -> int:
        """Frames held for a missing ``seq`` (at most :data:`REORDER_WINDOW` + 1)."""
        return len(self._held)

    def _grow_pending(self, tail: bytes) -> None:
        """Append bytes of a frame not yet ended; drop it once it cannot fit."""
        if self._discarding:
            self.stats.garbage_bytes += len(tail)
        elif tail:
            pending = self._pending + tail if self._pending else tail
            if len(pending) > MAX_SEGMENT_BYTES:
                self.stats.too_long += 1
                self.stats.garbage_bytes += len(pending)
                self._discarding = True
                pending = b""
            self._pending = pending

    # ------------------------------------------------------------------ one frame

    def _segment(self, seg: bytes, host_time_s: float, out: list) -> None:
        stats = self.stats
        n = len(seg)
        if n > MAX_SEGMENT_BYTES:
            stats.too_long += 1
            stats.garbage_bytes += n
            return
        frame = self._decode_segment(seg)
        if frame is None:
            stats.cobs_errors += 1
            stats.garbage_bytes += n
            return
        size = n - 1
        if size < MIN_FRAME_BYTES:
            stats.too_short += 1
            stats.garbage_bytes += n
            return
        if size > MAX_FRAME_BYTES:
            stats.too_long += 1
            stats.garbage_bytes += n
            return
        if binascii.crc32(frame) != _CRC_RESIDUE:
            stats.crc_errors += 1
            stats.garbage_bytes += n
            return
        version, ftype, seq = _HEADER.unpack_from(frame, 0)
        if version != PROTOCOL_VERSION:
            stats.version_errors += 1
            return
        if ftype == 1 and self._hello is not None:
            # A HELLO with a new boot_id starts a new seq count: it is handled at once
            # (after the old boot's waiting frames), not ordered against the old count.
            boot_id = struct.unpack_from("<I", frame, 6)[0] if size >= 14 else None
            if boot_id is not None and boot_id in self._old_boots:
                stats.late_frames += 1  # a HELLO of a boot already left (duplicated or late)
                return
            if boot_id is not None and boot_id != self._hello.boot_id:
                self._release_held(out, everything=True)
                self._last_seq = None
                self._forget_seqs()
                self._pass(ftype, frame, size, seq, host_time_s, out)
                return
        if ftype >= 0x80:
            # host-to-device types (COMMAND) count on the host's seq, not the device's:
            # counted, never ordered against the device's frames
            stats.unknown_type += 1
            return
        self._order(ftype, frame, size, seq, host_time_s, out)

    # ------------------------------------------------------------------ seq order

    def _forget_seqs(self) -> None:
        self._held.clear()
        self._recent.clear()
        self._recent_crc.clear()
        self._skipped.clear()
        self._foreign = []
        self._held_passes = 0

    def _order(self, ftype: int, frame: bytes | bytearray, size: int, seq: int, host_time_s: float,
               out: list) -> None:
        """Hand frames on in ``seq`` order: drop duplicates, hold early ones."""
        last = self._last_seq
        if last is None:
            self._pass(ftype, frame, size, seq, host_time_s, out)
            return
        ahead = (seq - last - 1) & 0xFFFFFFFF  # 0: the next one
        stats = self.stats
        if ahead == 0:
            self._foreign = []
            if self._held:
                stats.reordered += 1  # it came after a later frame: put back in place
            self._pass(ftype, frame, size, seq, host_time_s, out)
            if self._held:
                self._release_held(out)
                if self._held:
                    # Frames in order keep coming while some wait far ahead: after more
                    # than a window of them, the waiting ones were strays (e.g. from
                    # before a reset), not early.
                    self._held_passes += 1
                    if self._held_passes > REORDER_WINDOW:
                        stats.late_frames += len(self._held)
                        self._held.clear()
                        self._held_passes = 0
            return
        if ahead < _HALF:
            self._foreign = []
            if seq in self._held:
                stats.duplicates += 1
                return
            self._held[seq] = (ftype, frame, size, host_time_s)
            if len(self._held) > REORDER_WINDOW:
                self._release_held(out, skip=True)
            return
        # behind the last frame handed on
        if self._recent_crc.get(seq) == frame[-4:]:
            stats.duplicates += 1
            return
        if seq in self._skipped:
            stats.late_frames += 1
            return
        # Never seen: a late frame beyond memory, or the device counting again from a lower
        # number without a HELLO (a reset whose HELLO was lost). Only a run of them, each
        # following the previous, is taken as a new count.
        foreign = self._foreign
        if foreign and seq != ((foreign[-1][4] + 1) & 0xFFFFFFFF):
            stats.late_frames += len(foreign)
            foreign.clear()
        foreign.append((ftype, frame, size, host_time_s, seq))
        if len(foreign) < REORDER_WINDOW:
            return
        self._foreign = []
        self._release_held(out, everything=True)
        stats.seq_restarts += 1
        self._last_seq = None
        self._forget_seqs()
        for st in self._streams.values():
            st.may_restart = True
        for f_type, f_frame, f_size, f_host, f_seq in foreign:
            self._pass(f_type, f_frame, f_size, f_seq, f_host, out)

    def _release_held(self, out: list, *, skip: bool = False, everything: bool = False) -> None:
        """Hand on held frames that follow the last one handed on; with ``skip`` declare
        the missing seqs before the first held frame lost once; with ``everything``, all."""
        held = self._held
        while held:
            last = self._last_seq
            nxt = ((last if last is not None else -1) + 1) & 0xFFFFFFFF
            item = held.pop(nxt, None)
            if item is None:
                if not (skip or everything) or last is None:
                    return
                else:
                    skip = False
                    nxt = min(held, key=lambda q: (q - last) & 0xFFFFFFFF)
                    for lost in range(last + 1, last + 1 + min((nxt - last - 1) & 0xFFFFFFFF, _RECENT_SEQS)):
                        self._skipped.append(lost & 0xFFFFFFFF)
                    item = held.pop(nxt)
            ftype, frame, size, host_time_s = item
            self._pass(ftype, frame, size, nxt, host_time_s, out)
        self._held_passes = 0  # nothing held any more

    def _pass(self, ftype: int, frame: bytes | bytearray, size: int, seq: int, host_time_s: float,
              out: list) -> None:
        """A frame in seq order: remember its seq, then read its content."""
        recent = self._recent
        if len(recent) == recent.maxlen:
            self._recent_crc.pop(recent[0], None)
        recent.append(seq)
        self._recent_crc[seq] = bytes(frame[-4:])
        self._handle(ftype, frame, size, seq, host_time_s, out)

    def _handle(self, ftype: int, frame: bytes | bytearray, size: int, seq: int, host_time_s: float,
                out: list) -> None:
        stats = self.stats
        if ftype == 2:
            last = self._last_seq
            if last is not None and seq == ((last + 1) & 0xFFFFFFFF):
                self._last_seq = seq
            else:
                self._track_seq(seq)
            self._data(frame, size, seq, host_time_s, out)
            return
        if ftype == 1:
            self._hello_frame(frame, seq, host_time_s, out)
            return
        if ftype == 3 or ftype == 4 or ftype == 5:
            self._track_seq(seq)
            payload = bytes(frame[6:-4])
            msg: Message
            try:
                if ftype == 3:
                    msg = parse_status(payload, seq, host_time_s)
                elif ftype == 4:
                    msg = parse_reply(payload, seq, host_time_s)
                else:
                    msg = parse_text(payload, seq, host_time_s)
            except MalformedPayload:
                stats.malformed += 1
                return
            stats.frames_ok += 1
            out.append(msg)
            return
        self._track_seq(seq)
        stats.unknown_type += 1

    def _track_seq(self, seq: int) -> None:
        last = self._last_seq
        self._last_seq = seq
        if last is None:
            return
        delta = (seq - last - 1) & 0xFFFFFFFF
        if delta:
            stats = self.stats
            stats.seq_gaps += 1
            if delta < _HALF:
                stats.frames_lost += delta
            # A lost frame may have been the HELLO announcing a START: let every
            # stream restart its index once instead of dropping it as out-of-order.
            for st in self._streams.values():
                st.may_restart = True

    def _hello_frame(self, frame: bytes | bytearray, seq: int, host_time_s: float, out: list) -> None:
        stats = self.stats
        try:
            hello = parse_hello(bytes(frame[6:-4]), seq, host_time_s)
        except MalformedPayload:
            self._track_seq(seq)
            stats.malformed += 1
            return
        old = self._hello
        if old is not None and old.boot_id != hello.boot_id:
            self._old_boots.append(old.boot_id)
            self._last_seq = None  # a new boot counts seq from 0 again
            self._track_seq(seq)
            self._streams = {s.stream_id: _StreamState(s, None) for s in hello.streams}
            self._hello = hello
            stats.resets += 1
            stats.frames_ok += 1
            out.append(DeviceReset(old.boot_id, hello, host_time_s))
            return
        self._track_seq(seq)
        previous = self._streams
        self._streams = {
            s.stream_id: _StreamState(s, previous[s.stream_id].next_index if s.stream_id in previous else None)
            for s in hello.streams
        }
        self._hello = hello
        stats.frames_ok += 1
        out.append(hello)

    def _data(self, frame: bytes | bytearray, size: int, seq: int, host_time_s: float, out: list) -> None:
        stats = self.stats
        if size < _SAMPLES_OFFSET + 4:
            stats.malformed += 1
            return
        stream_id, n_samples, index32, t_first_us = _DATA_AT.unpack_from(frame, 0)
        if self._hello is None:
            stats.data_before_hello += 1
            return
        st = self._streams.get(stream_id)
        if st is None or n_samples == 0 or size != _SAMPLES_OFFSET + 4 + n_samples * st.frame_len_per_sample:
            stats.malformed += 1
            return
        expected = st.next_index
        if expected is None:
            index = index32
        else:
            delta = (index32 - expected) & 0xFFFFFFFF
            if delta == 0:
                index = expected
            elif delta < _HALF:
                index = expected + delta
                stats.samples_lost += delta
                out.append(Gap(stream_id, expected, delta, host_time_s))
            elif st.may_restart:
                index = index32
                stats.stream_restarts += 1
                out.append(StreamRestart(stream_id, expected, index, host_time_s))
                if index:  # a run counts from 0 (START): its first frames were lost
                    stats.samples_lost += index
                    out.append(Gap(stream_id, 0, index, host_time_s))
            else:
                stats.out_of_order += 1
                return
        st.next_index = index + n_samples
        st.may_restart = False
        stats.frames_ok += 1
        # The block is made by _unpack_batch at the end of feed(), with its samples.
        self._batch.append((len(out), st, frame, index, t_first_us, seq, host_time_s))
        out.append(None)

    def _unpack_batch(self, out: list) -> None:
        """Make the blocks of this feed's DATA frames: one numpy pass per stream."""
        batch = self._batch
        self._batch = []
        if len(batch) == 1:  # the common case for small reads: skip the grouping
            pos, st, frame, index, t_first_us, seq, host_time_s = batch[0]
            n_samples = frame[7]
            n_values = n_samples * st.n_channels
            if st.fmt == 3:
                values = np.ndarray((n_values,), _I32, frame, _SAMPLES_OFFSET - 1, (3,)) >> 8
            else:
                values = np.frombuffer(frame, _I16, n_values, _SAMPLES_OFFSET).astype(np.int32)
            values.shape = (n_samples, st.n_channels)
            values.flags.writeable = False
            info = st.info
            out[pos] = new_sample_block(info.stream_id, info, index, t_first_us, values, host_time_s, seq)
            return
        by_stream: dict[_StreamState, list[tuple[int, _StreamState, bytes | bytearray, int, int, int, float]]] = {}
        for item in batch:
            by_stream.setdefault(item[1], []).append(item)
        for st, items in by_stream.items():
            n_ch = st.n_channels
            # Every frame was length-checked, so its sample bytes are frame[20:-4].
            raw = b"".join([item[2][_SAMPLES_OFFSET:-4] for item in items])
            n_values = len(raw) // st.fmt
            if st.fmt == 3:
                # Overlapping int32 words starting one byte early, then >> 8: the
                # extra low byte falls off and the top byte is sign-extended.
                raw = b"\0" + raw
                values = np.ndarray((n_values,), _I32, raw, 0, (3,)) >> 8
            else:
                values = np.frombuffer(raw, _I16, n_values).astype(np.int32)
            values.shape = (n_values // n_ch, n_ch)
            values.flags.writeable = False
            info = st.info
            stream_id = info.stream_id
            row = 0
            for pos, _, frame, index, t_first_us, seq, host_time_s in items:
                end = row + frame[7]
                out[pos] = new_sample_block(stream_id, info, index, t_first_us, values[row:end], host_time_s, seq)
                row = end
