"""The twitchwatch wire protocol (docs/protocol.md), pure: no I/O.

``FrameDecoder`` turns received serial bytes into typed messages; the rest are
the building blocks (COBS, CRC frames, payload layouts) and ``encode_command``
for the one frame the host sends.
"""

from .cobs import cobs_decode, cobs_encode
from .decoder import DecoderStats, FrameDecoder
from .errors import (
    CobsError,
    CrcError,
    FrameTooLong,
    FrameTooShort,
    MalformedPayload,
    ProtocolError,
    UnknownTypeError,
    VersionError,
)
from .frame import (
    MAX_FRAME_BYTES,
    MAX_PAYLOAD_BYTES,
    MAX_WIRE_BYTES,
    PROTOCOL_VERSION,
    Frame,
    FrameType,
    build_frame,
    crc32,
    parse_frame,
)
from .messages import (
    ACC_KINDS,
    ChannelInfo,
    ChannelKind,
    Command,
    DeviceReset,
    Gap,
    Hello,
    Message,
    Reply,
    ReplyResult,
    SampleBlock,
    SampleFormat,
    Status,
    StreamInfo,
    StreamRestart,
    Text,
)
from .payloads import (
    build_command_payload,
    build_data_payload,
    build_hello_payload,
    build_reply_payload,
    build_status_payload,
    encode_command,
    encode_frame,
    parse_data_header,
    parse_data_samples,
    parse_hello,
    parse_reply,
    parse_status,
    parse_text,
)

__all__ = [
    "FrameDecoder", "DecoderStats",
    "ChannelInfo", "ChannelKind", "ACC_KINDS", "StreamInfo", "SampleFormat", "Hello", "SampleBlock", "Gap",
    "StreamRestart", "DeviceReset", "Status", "Reply", "ReplyResult", "Text", "Message",
    "Command", "encode_command", "encode_frame",
    "Frame", "FrameType", "parse_frame", "build_frame", "crc32", "cobs_encode", "cobs_decode",
    "PROTOCOL_VERSION", "MAX_FRAME_BYTES", "MAX_PAYLOAD_BYTES", "MAX_WIRE_BYTES",
    "ProtocolError", "CobsError", "CrcError", "FrameTooShort", "FrameTooLong", "VersionError",
    "UnknownTypeError", "MalformedPayload",
    "parse_hello", "parse_status", "parse_reply", "parse_text", "parse_data_header", "parse_data_samples",
    "build_hello_payload", "build_data_payload", "build_status_payload", "build_reply_payload",
    "build_command_payload",
]
