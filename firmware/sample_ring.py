"""A preallocated ring of interleaved int32 samples that drops the oldest on overrun.

The ring holds the contiguous sample range ``[read_index, write_index)`` of one stream
(absolute indexes since START). A writer that needs room for ``n`` samples calls
``make_room(n)``: if the ring is too full, the oldest unsent samples are discarded and
counted, so the source never blocks and the gap shows up in ``first_sample_index``.
Writers store values straight into ``buf`` from element ``wpos`` (wrapping at ``size``)
and then call ``commit``. Nothing here allocates after construction.

Runs under MicroPython and CPython 3.10+.
"""

import array


class SampleRing:
    def __init__(self, n_channels: int, capacity_samples: int) -> None:
        self.n_channels = n_channels
        self.capacity = capacity_samples
        self.size = capacity_samples * n_channels  # elements
        self.buf = array.array("i", bytearray(4 * self.size))
        self.read_index = 0
        self.write_index = 0
        self.rpos = 0  # element position of read_index
        self.wpos = 0  # element position of write_index

    def reset(self, index: int = 0) -> None:
        """Empty the ring; the next sample written gets absolute index ``index``."""
        self.read_index = index
        self.write_index = index
        self.rpos = 0
        self.wpos = 0

    def count(self) -> int:
        return self.write_index - self.read_index

    def make_room(self, n: int) -> int:
        """Discard the oldest samples so ``n`` more fit; return how many were discarded."""
        over = self.write_index - self.read_index + n - self.capacity
        if over <= 0:
            return 0
        held = self.write_index - self.read_index
        if over > held:
            over = held
        self.consume(over)
        return over

    def commit(self, n: int, wpos: int) -> None:
        """Record ``n`` samples written by a writer that ended at element ``wpos``."""
        self.write_index += n
        self.wpos = wpos

    def consume(self, n: int) -> None:
        """Forget the ``n`` oldest samples (they were sent or dropped)."""
        self.read_index += n
        p = self.rpos + n * self.n_channels
        while p >= self.size:
            p -= self.size
        self.rpos = p

    def skip(self, n: int) -> int:
        """Samples ``write_index .. write_index + n - 1`` were lost at the source.

        The ring can only hold a contiguous range, so the caller sends what it holds
        first (``Acquisition.fill`` does); whatever it still holds is discarded. Returns
        the number of held samples discarded (not counting ``n``).
        """
        held = self.write_index - self.read_index
        self.write_index += n
        self.read_index = self.write_index
        self.rpos = self.wpos
        return held

    def put(self, values) -> None:
        """Append one sample (a sequence of ``n_channels`` ints); the caller made room."""
        b = self.buf
        p = self.wpos
        for v in values:
            b[p] = v
            p += 1
        if p >= self.size:
            p = 0
        self.commit(1, p)
