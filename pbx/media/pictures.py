"""Profile pictures: decode by content (JPEG, PNG, WebP only), crop square, re-encode clean.

Only the pixels survive: EXIF (GPS position, camera serial), ICC profiles, comments and any
bytes glued after the image are dropped because a new image is built from the decoded pixels
before encoding. The pixel limit is checked from the header, before the pixels are decoded,
so a small file that would expand to gigabytes of pixels (a decompression bomb) is refused
without being decoded; Pillow's own global limit is left as it is.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import io
import struct
import unicodedata
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from pbx.media.errors import (
    PictureEmpty,
    PictureTooLarge,
    PictureTooManyPixels,
    PictureUndecodable,
    PictureUnsupportedFormat,
)

DEFAULT_SIZE = 256
OutputFormat = Literal["webp", "png"]
OUTPUT_FORMATS = {"webp": ("WEBP", "image/webp"), "png": ("PNG", "image/png")}
NOT_ACCEPTED = (
    (b"GIF8", "a GIF picture"),
    (b"BM", "a BMP picture"),
    (b"II*\0", "a TIFF picture"),
    (b"MM\0*", "a TIFF picture"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
)
AVATAR_FONTS = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "LiberationSans-Bold.ttf")
# What a damaged file (or damaged EXIF inside it) makes Pillow raise.
DECODE_ERRORS = (
    UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, KeyError, IndexError,
    TypeError, struct.error,
)  # fmt: skip


@dataclass(frozen=True)
class Picture:
    """An encoded square picture ready to store and serve."""

    data: bytes
    content_type: str
    width: int
    height: int


def normalise_picture(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    size: int = DEFAULT_SIZE,
    output: OutputFormat = "webp",
) -> Picture:
    """Decode `data` by content, crop it square around the centre, resize and re-encode."""
    if not data:
        raise PictureEmpty()
    if len(data) > max_bytes:
        raise PictureTooLarge(
            f"The picture file is {len(data) / 1_000_000:.1f} MB; "
            f"the limit is {max_bytes / 1_000_000:.1f} MB."
        )
    image = _decode(data, _sniff_picture(data), max_pixels, size)
    square = ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    return _encode(square, output)


def _sniff_picture(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    head = data[:256].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        raise PictureUnsupportedFormat("This is an SVG, HTML or XML document, not a picture.")
    for magic, what in NOT_ACCEPTED:
        if data.startswith(magic):
            raise PictureUnsupportedFormat(f"This is {what}; accepted: JPEG, PNG and WebP.")
    raise PictureUnsupportedFormat()


def _decode(data: bytes, image_format: str, max_pixels: int, size: int) -> Image.Image:
    """Open (header only), check the pixel count, then decode; orientation from EXIF applied."""
    try:
        # Above its own (global, higher) limit Pillow warns or raises; both mean "too many".
        image = Image.open(io.BytesIO(data), formats=[image_format])
        if image.width * image.height > max_pixels:
            raise PictureTooManyPixels(
                f"The picture is {image.width}×{image.height} pixels; "
                f"the limit is {max_pixels:,} pixels."
            )
        image.draft("RGB", (size, size))  # JPEG only: decode at 1/2…1/8 scale when big
        image.load()
        return _rgb_or_rgba(ImageOps.exif_transpose(image))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PictureTooManyPixels(detail=str(exc)) from exc
    except DECODE_ERRORS as exc:
        raise PictureUndecodable(detail=str(exc)) from exc


def _rgb_or_rgba(image: Image.Image) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


def _encode(image: Image.Image, output: OutputFormat) -> Picture:
    """Encode from the bare pixels, so no metadata can ride along."""
    pillow_format, content_type = OUTPUT_FORMATS[output]
    bare = Image.frombytes(image.mode, image.size, image.tobytes())
    buffer = io.BytesIO()
    if pillow_format == "WEBP":
        bare.save(buffer, pillow_format, quality=85, method=4)
    else:
        bare.save(buffer, pillow_format, optimize=True)
    return Picture(buffer.getvalue(), content_type, bare.width, bare.height)


def placeholder_picture(initials: str, size: int = DEFAULT_SIZE) -> Picture:
    """A grey disc with initials, shown where a profile picture is missing."""
    image = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, size - 1, size - 1), fill=(154, 165, 177))
    _draw_centred_text(draw, initials.strip()[:3].upper() or "?", size)
    return _encode(image, "webp")


def draw_avatar(name: str, seed: str | int, size: int = DEFAULT_SIZE) -> Picture:
    """A simple coloured avatar for demo data: colours and shape from `seed`, initials of `name`.

    Deterministic (SHA-256 of the seed, not Python's salted `hash`), so demo data looks the
    same on every load.
    """
    digest = hashlib.sha256(str(seed).encode()).digest()
    hue = digest[0] / 255
    image = Image.new("RGB", (size, size), _hsv_to_rgb(hue, 0.45, 0.80))
    draw = ImageDraw.Draw(image)
    radius = size * (0.25 + digest[1] / 1020)
    cx, cy = size * digest[2] / 255, size * digest[3] / 255
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius),
                 fill=_hsv_to_rgb((hue + 0.5) % 1, 0.5, 0.6))  # fmt: skip
    _draw_centred_text(draw, initials_of(name), size)
    return _encode(image, "webp")


def initials_of(name: str) -> str:
    """Up to two initials from a person's name: "Anna-Karin Berg" → "AB"."""
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    return "".join(w[0] for w in words[:1] + words[1:][-1:]).upper()


def _draw_centred_text(draw: ImageDraw.ImageDraw, text: str, size: int) -> None:
    font, full_unicode = _font(round(size * 0.4))
    if not full_unicode:  # Pillow's built-in font has ASCII only: "Å" is drawn as "A"
        text = "".join(c for c in unicodedata.normalize("NFD", text) if c.isascii()) or "?"
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = (size - (right - left)) / 2 - left
    y = (size - (bottom - top)) / 2 - top
    draw.text((x, y), text, fill=(255, 255, 255), font=font)


@functools.lru_cache(maxsize=8)
def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """A system sans-serif with Swedish letters if there is one (Pillow searches the usual
    font folders by file name), else Pillow's built-in font."""
    for name in AVATAR_FONTS:
        try:
            return ImageFont.truetype(name, size), True
        except OSError:
            continue
    return ImageFont.load_default(size=size), False


def _hsv_to_rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return round(r * 255), round(g * 255), round(b * 255)
