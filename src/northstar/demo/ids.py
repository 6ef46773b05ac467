"""Identifiers drawn from the generator's RNG (never uuid4 or the clock), as arrow strings."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# The offsets of an arrow string array are int32; stay well below 2**31 bytes per chunk.
_MAX_CHUNK_BYTES = 1 << 30


def fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """An arrow string array from an (n, width) uint8 matrix of ASCII characters."""
    n, width = chars.shape
    if n * width >= _MAX_CHUNK_BYTES:
        raise ValueError("too many characters for one arrow string chunk; split the ids")
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(chars, dtype=np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def uuid4_strings(rng: np.random.Generator, n: int) -> pa.Array:
    """``n`` random UUIDs (version 4 layout) as 36-character strings."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 0x0F]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for lo, hi, at in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        out[:, at : at + hi - lo] = digits[:, lo:hi]
    return fixed_width_strings(out)


def hex_ids(rng: np.random.Generator, n: int, prefix: str, digits: int = 12) -> list[str]:
    """``n`` distinct ids such as ``cus_3f9a1c2b7d04``: a prefix and random hex digits."""
    values = rng.choice(16**digits, size=n, replace=False)
    return [f"{prefix}{v:0{digits}x}" for v in values.tolist()]
