"""Seeded randomness for the generator: numpy streams, served fast to per-event Python code.

Every draw comes from numpy Generators built from one SeedSequence, so a seed fixes the whole
store. Per-session behaviour makes many scalar draws; calling numpy once per draw costs about
a microsecond, so `RandomStream` pulls blocks of uniforms/normals/uuids and hands them out one
by one. The block size is fixed, so the values never depend on how they are consumed.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

_BLOCK = 4096
_UUID_BLOCK = 1024


def format_uuids(raw: np.ndarray) -> list[str]:
    """Turn an (n, 16) uint8 array of random bytes into lowercase version-4 UUID strings."""
    raw = raw.copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    text = raw.tobytes().hex()
    return [
        f"{text[i : i + 8]}-{text[i + 8 : i + 12]}-{text[i + 12 : i + 16]}-"
        f"{text[i + 16 : i + 20]}-{text[i + 20 : i + 32]}"
        for i in range(0, len(text), 32)
    ]


class KeyedUuids:
    """Stable UUIDs for (user, device) pairs, keyed by the run's seed, without storing them.

    A device's anonymous id must be the same in every session of a user; deriving it from a
    keyed hash keeps per-user memory at zero bytes instead of 16 per device.
    """

    def __init__(self, key: bytes) -> None:
        self._key = key

    def get(self, *parts: int) -> str:
        digest = hashlib.blake2b(
            ":".join(map(str, parts)).encode(), key=self._key, digest_size=16
        ).digest()
        return str(uuid.UUID(bytes=digest, version=4))


class RandomStream:
    """Scalar draws (uniform, normal, choices, uuids) backed by numpy blocks."""

    __slots__ = ("_draws", "_ids", "_ni", "_normals", "_ui", "_uniforms", "_uuids", "_vi")

    def __init__(self, seed: np.random.SeedSequence) -> None:
        draws_seed, ids_seed = seed.spawn(2)
        self._draws = np.random.Generator(np.random.PCG64(draws_seed))
        self._ids = np.random.Generator(np.random.PCG64(ids_seed))
        self._uniforms: list[float] = []
        self._normals: list[float] = []
        self._uuids: list[str] = []
        self._ui = self._ni = self._vi = 0

    def random(self) -> float:
        """Uniform on [0, 1)."""
        i = self._ui
        if i == len(self._uniforms):
            self._uniforms = self._draws.random(_BLOCK).tolist()
            i = 0
        self._ui = i + 1
        return self._uniforms[i]

    def normal(self) -> float:
        """Standard normal."""
        i = self._ni
        if i == len(self._normals):
            self._normals = self._draws.standard_normal(_BLOCK).tolist()
            i = 0
        self._ni = i + 1
        return self._normals[i]

    def uuid(self) -> str:
        """A random version-4 UUID string derived from the seed."""
        i = self._vi
        if i == len(self._uuids):
            raw = self._ids.integers(0, 256, size=(_UUID_BLOCK, 16), dtype=np.uint8)
            self._uuids = format_uuids(raw)
            i = 0
        self._vi = i + 1
        return self._uuids[i]

    def chance(self, probability: float) -> bool:
        return self.random() < probability

    def below(self, n: int) -> int:
        """Uniform integer in [0, n)."""
        return int(self.random() * n)

    def pick(self, options: Sequence[str]) -> str:
        return options[int(self.random() * len(options))]

    def weighted(self, cumulative: Sequence[float]) -> int:
        """Index drawn from cumulative weights (last element = total weight)."""
        return bisect_right(cumulative, self.random() * cumulative[-1])

    def lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(sigma * self.normal())

    def geometric(self, mean: float) -> int:
        """Count >= 1 with the given mean (number of trials to the first success)."""
        if mean <= 1.0:
            return 1
        p = 1.0 / mean
        return 1 + int(math.log(1.0 - self.random()) / math.log(1.0 - p))
