"""Keep's trace on the host: split the console, decode frames, model the board.

    from keep_host.trace import Decoder, BoardState
    dec, board = Decoder(names), BoardState(names)
    for item in dec.feed(chunk):      # Event or Text
        board.apply(item)
"""

from .decoder import Decoder, decode_bytes, read_recording
from .events import Event, Text
from .frame import FrameError, encode_frame, log_records, record
from .model import BoardState
from .splitter import Counters, Splitter

__all__ = ["Decoder", "decode_bytes", "read_recording", "Event", "Text", "FrameError",
           "encode_frame", "log_records", "record", "BoardState", "Counters", "Splitter"]
