import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twitchwatch.protocol import CobsError, cobs_decode, cobs_encode
from twitchwatch.protocol.cobs import cobs_decode_short


@settings(max_examples=500)
@given(st.binary(max_size=1200))
def test_roundtrip(data):
    enc = cobs_encode(data)
    assert b"\0" not in enc
    assert len(enc) <= len(data) + len(data) // 254 + 1
    assert cobs_decode(enc) == data
    if len(enc) <= 253:
        assert cobs_decode_short(enc) == data


@pytest.mark.parametrize("data", [b"", b"\0", b"\0\0", b"\x11\x22\0\x33", bytes(range(1, 255)),
                                  bytes(range(1, 256)) + b"\0" + bytes(range(1, 256)), b"\x01" * 254 + b"\0"])
def test_edge_cases(data):
    assert cobs_decode(cobs_encode(data)) == data


def test_known_encoding():  # Wikipedia examples
    assert cobs_encode(b"\x00") == b"\x01\x01"
    assert cobs_encode(b"\x11\x22\x00\x33") == b"\x03\x11\x22\x02\x33"
    assert cobs_encode(bytes(range(1, 255))) == b"\xff" + bytes(range(1, 255)) + b"\x01"


@pytest.mark.parametrize("bad", [b"", b"\x05\x01", b"\x02\x00\x01", b"\x09\x01\x02\x03"])
def test_errors(bad):
    with pytest.raises(CobsError):
        cobs_decode(bad)


@settings(max_examples=500)
@given(st.binary(min_size=1, max_size=253).filter(lambda b: b"\0" not in b))
def test_short_decoder_agrees_with_reference(seg):
    try:
        want = cobs_decode(seg)
    except CobsError:
        want = None
    assert cobs_decode_short(seg) == want


@settings(max_examples=500)
@given(st.binary(min_size=1, max_size=245).filter(lambda b: b"\0" not in b))
def test_streaming_backend_agrees_with_python_fast_path(seg):
    """decode_segment may be the C package; it must give the same answer."""
    from twitchwatch.protocol.cobs import decode_segment

    got = decode_segment(seg)
    want = cobs_decode_short(seg)
    assert (None if got is None else bytes(got)) == (None if want is None else bytes(want))
