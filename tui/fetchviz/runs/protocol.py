"""What the dashboard and a run's process say to each other over their pipes.

Frames: a 4-byte length, then a pickle. The parent writes one `RunCommand` to the run's stdin;
the run writes batches of events to its stdout, and exits after its last (see worker.py).

In a batch, a task's events (two a request: the run's hot path) come as pairs, the event's
class and its fields, made into events here, in the parent: the run's process neither makes
the object nor pickles it through its __reduce__ (0.17 µs a pair against 0.69 µs an event to
pickle, and 0.03 against 0.12 µs to make; timeit, 100 to a batch). A 1,000-request aiohttp
run went from 1,088,703–1,091,342 to 1,073,656–1,073,994 instructions a request (callgrind,
N = 200 against 1,000, heartbeat held off), against 1,036,386 for the strategy's own code
unrecorded: its phases' cost from 1.05× to 1.036×.
"""

from __future__ import annotations

import os
import pickle
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from fetchviz.core.catalog import Strategy
from fetchviz.core.config import Config

HEADER = struct.Struct("<I")


@dataclass(frozen=True, slots=True)
class RunCommand:
    """One run, as the parent asks for it."""

    run_id: int
    strategy: Strategy  # a built-in, or a user's file and function (loaded by the run)
    config: Config
    live: bool  # someone watches: hand events over within milliseconds, with heartbeats
    sample: int = 0  # after the run, time this many requests one by one (the sync estimate)
    beats: bool = False  # not live, but recorded: the loop's heartbeats and blocks too


def encode(message: object) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def decode_all(buffer: bytearray) -> list[Any]:
    """Take every whole frame off the front of `buffer`, each a batch of events (its pairs
    made into events); a partial one stays for later."""
    messages = []
    while len(buffer) >= HEADER.size:
        (size,) = HEADER.unpack_from(buffer)
        end = HEADER.size + size
        if len(buffer) < end:
            break
        batch = pickle.loads(buffer[HEADER.size : end])
        messages.append([item[0](*item[1]) if type(item) is tuple else item for item in batch])
        del buffer[:end]
    return messages


def read_message(stream: BinaryIO) -> Any:
    """One whole frame from a blocking stream, or None at end-of-file."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    return pickle.loads(stream.read(size))


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
