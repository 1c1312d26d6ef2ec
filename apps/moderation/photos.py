"""Perceptual hashes of ad photos, for the `photo_duplicate` rule (checks.py).

A photo's hash is ImageHash's pHash: 64 bits from the signs of the 8x8 lowest frequencies of
the DCT of a 32x32 grey thumbnail. Resizing, recompressing, a mild blur, brightness or contrast
change moves it by a few bits; unrelated photos differ in about 32. It is stored in
AdImage.phash as a signed bigint (PostgreSQL has no unsigned 64-bit type).

Finding stored hashes within Hamming distance N without scanning them all (multi-index hashing):
the 64 bits are four 16-bit bands, each with its own expression index
((phash >> 48) & 65535, ...). Two hashes within distance N differ in at most floor(N / 4) bits
in at least one band (pigeonhole), so the candidates are the rows having, in some band, a value
within that radius of ours: 17 values per band for N <= 7, 137 for N <= 11. Only those
candidates get the exact distance test (bit_count of the XOR).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from itertools import combinations
from typing import IO, Any

import imagehash
import numpy
from PIL import Image

logger = logging.getLogger(__name__)

BITS = 64
BANDS = 4
BAND_BITS = BITS // BANDS
BAND_MASK = (1 << BAND_BITS) - 1
# Band i is bits (48 - 16 i) .. (63 - 16 i): the SQL of every query and of the indexes
# (AdImage.Meta.indexes) must use exactly these expressions.
BAND_SHIFTS = tuple(BITS - BAND_BITS * (i + 1) for i in range(BANDS))
MAX_DISTANCE = 15  # a band radius of 3: 697 values per band; beyond that, pick another scheme
# JPEG decoding at 1/8 scale (libjpeg's DCT scaling) is far cheaper than decoding every pixel;
# the hash only needs 32x32. Never below this size, so small photos hash as before.
DRAFT_SIZE = (256, 256)
SIDE = 32  # pHash's grey thumbnail (hash_size 8 x highfreq_factor 4)
# Below this standard deviation of the grey thumbnail's levels (0..255) a photo is flat.
FLAT_STD = 4.0


def to_signed(value: int) -> int:
    return value - (1 << BITS) if value >= 1 << (BITS - 1) else value


def to_unsigned(value: int) -> int:
    return value & ((1 << BITS) - 1)


def hash_image(image: Image.Image) -> int | None:
    """The signed 64-bit pHash of a decoded image; None for a flat one (blank, one colour),
    whose hash says nothing about it: every flat photo has the same hash."""
    grey = image.convert("L").resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    if float(numpy.asarray(grey, dtype=numpy.float64).std()) < FLAT_STD:
        return None
    bits = imagehash.phash(grey, hash_size=8).hash.flatten()  # the same 32x32 grey input
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return to_signed(value)


def perceptual_hash(file: IO[bytes] | Any) -> int | None:
    """The signed 64-bit pHash of an image file, None when it is flat (raises what Pillow
    raises on a bad file)."""
    file.seek(0)
    with Image.open(file) as image:
        if image.format == "JPEG":
            image.draft("L", DRAFT_SIZE)
        return hash_image(image)


def hamming(a: int, b: int) -> int:
    return (to_unsigned(a) ^ to_unsigned(b)).bit_count()


def band(value: int, index: int) -> int:
    return (to_unsigned(value) >> BAND_SHIFTS[index]) & BAND_MASK


def neighbours(value: int, radius: int) -> list[int]:
    """Every 16-bit value within `radius` bits of `value`, itself first."""
    found = [value]
    for flips in range(1, radius + 1):
        for positions in combinations(range(BAND_BITS), flips):
            mask = 0
            for position in positions:
                mask |= 1 << position
            found.append(value ^ mask)
    return found


def band_radius(distance: int) -> int:
    return distance // BANDS


def candidate_bands(hashes: Iterable[int], distance: int) -> list[list[int]]:
    """For each band, the values a stored hash must have there (in at least one band) to be
    within `distance` of one of `hashes`."""
    radius = band_radius(distance)
    per_band: list[set[int]] = [set() for _ in range(BANDS)]
    for value in hashes:
        for index in range(BANDS):
            per_band[index].update(neighbours(band(value, index), radius))
    return [sorted(values) for values in per_band]
