"""Synthetic ad photos for the photo rule's tests: gradients, shapes and noise, one distinct
picture per seed (Pillow only), and the everyday edits a re-poster makes to a stolen photo."""

from __future__ import annotations

import io
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

SIZES = ((400, 300), (480, 360), (360, 480), (420, 420))


def photo(seed: int) -> Image.Image:
    """A picture no other seed draws: a background (flat or a gradient), 3 to 12 ellipses and
    rectangles, on every third one a layer of noise."""
    rng = random.Random(seed)
    width, height = rng.choice(SIZES)
    image = Image.new("RGB", (width, height), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    if seed % 2 == 0:
        start = [rng.randrange(256) for _ in range(3)]
        end = [rng.randrange(256) for _ in range(3)]
        across = rng.random() < 0.5
        steps = width if across else height
        for step in range(steps):
            colour = tuple(int(a + (b - a) * step / steps) for a, b in zip(start, end, strict=True))
            line = [(step, 0), (step, height)] if across else [(0, step), (width, step)]
            draw.line(line, fill=colour)
    for _ in range(rng.randrange(3, 13)):
        x, y = rng.randrange(width), rng.randrange(height)
        box = (x, y, x + rng.randrange(20, width // 2), y + rng.randrange(20, height // 2))
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse(box, fill=colour)
        else:
            draw.rectangle(box, fill=colour)
    if seed % 3 == 0:
        noise = Image.effect_noise((width, height), rng.randrange(10, 60)).convert("RGB")
        image = Image.blend(image, noise, 0.3)
    return image


def encoded(image: Image.Image, fmt: str = "JPEG", quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(buffer, "JPEG", quality=quality)
    else:
        image.save(buffer, fmt)
    return buffer.getvalue()


def reopened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


Edit = Callable[[Image.Image], bytes]

# What a re-poster does to a photo before uploading it again.
EDITS: dict[str, Edit] = {
    "same file": lambda image: encoded(image),
    "half size": lambda image: encoded(image.resize((image.width // 2, image.height // 2))),
    "recompressed (JPEG q=30)": lambda image: encoded(image, quality=30),
    "as PNG": lambda image: encoded(image, "PNG"),
    "brighter (+10%)": lambda image: encoded(ImageEnhance.Brightness(image).enhance(1.1)),
    "darker (-10%)": lambda image: encoded(ImageEnhance.Brightness(image).enhance(0.9)),
    "less contrast (-15%)": lambda image: encoded(ImageEnhance.Contrast(image).enhance(0.85)),
    "blurred": lambda image: encoded(image.filter(ImageFilter.GaussianBlur(1.2))),
    "shrunk, brighter, recompressed": lambda image: encoded(
        ImageEnhance.Brightness(
            image.resize((image.width * 3 // 4, image.height * 3 // 4))
        ).enhance(1.08),
        quality=60,
    ),
}
