"""Profile pictures with the real Pillow: accepted formats re-encoded square; the rest refused."""

from __future__ import annotations

import io
import struct
import time
import zlib
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageCms

from pbx.media import errors
from pbx.media.pictures import (
    Picture,
    draw_avatar,
    initials_of,
    normalise_picture,
    placeholder_picture,
)

LIMITS: dict[str, Any] = {"max_bytes": 5_000_000, "max_pixels": 25_000_000}
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def banded(width: int = 600, height: int = 300, mode: str = "RGB") -> Image.Image:
    """Blue outer bands left and right, a green centre: a centre crop shows only green."""
    image = Image.new(mode, (width, height), BLUE)
    image.paste(GREEN, (width // 2 - height // 2, 0, width // 2 + height // 2, height))
    return image


def encoded(image: Image.Image, pillow_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, pillow_format, **options)
    return buffer.getvalue()


def opened(picture: Picture) -> Image.Image:
    image = Image.open(io.BytesIO(picture.data))
    image.load()
    return image


def close_to(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


# --- accepted -------------------------------------------------------------------------------


@pytest.mark.parametrize("pillow_format", ["JPEG", "PNG", "WEBP"])
def test_accepted_formats_become_a_square_centre_crop(pillow_format: str) -> None:
    picture = normalise_picture(encoded(banded(), pillow_format), **LIMITS)
    image = opened(picture)

    assert (picture.content_type, image.format) == ("image/webp", "WEBP")
    assert (picture.width, picture.height) == image.size == (256, 256)
    for corner in ((2, 2), (253, 2), (2, 253), (253, 253), (128, 128)):
        assert close_to(image.getpixel(corner), GREEN), corner  # type: ignore[arg-type]


def test_small_pictures_are_scaled_up_and_png_output_is_available() -> None:
    picture = normalise_picture(encoded(banded(60, 30), "PNG"), **LIMITS, size=128, output="png")
    image = opened(picture)
    assert (picture.content_type, image.format, image.size) == ("image/png", "PNG", (128, 128))


def test_transparency_survives() -> None:
    transparent = Image.new("RGBA", (100, 100), (255, 0, 0, 0))
    image = opened(normalise_picture(encoded(transparent, "PNG"), **LIMITS))
    assert image.mode == "RGBA" and image.getpixel((50, 50))[3] == 0  # type: ignore[index]


def test_metadata_is_stripped() -> None:
    source = banded()
    exif = source.getexif()
    exif[0x010F] = "Camera maker"  # Make
    exif[0x8825] = {1: "N", 2: (59.0, 19.0, 44.0)}  # GPS position
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encoded(source, "JPEG", exif=exif, icc_profile=icc, comment=b"secret note")

    picture = normalise_picture(data, **LIMITS)
    image = opened(picture)

    assert not image.getexif()
    assert "icc_profile" not in image.info and "exif" not in image.info
    for leak in (b"Camera maker", b"secret note", b"Exif"):
        assert leak not in picture.data


def test_exif_orientation_is_applied_before_cropping() -> None:
    """Stored on its side (green on top), displayed upright (green on the right)."""
    stored = Image.new("RGB", (300, 600), GREEN)
    stored.paste(RED, (0, 300, 300, 600))
    exif = stored.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    image = opened(normalise_picture(encoded(stored, "JPEG", exif=exif), **LIMITS))

    assert close_to(image.getpixel((10, 128)), RED)  # type: ignore[arg-type]
    assert close_to(image.getpixel((245, 128)), GREEN)  # type: ignore[arg-type]


def test_bytes_glued_after_a_jpeg_do_not_survive() -> None:
    data = encoded(banded(), "JPEG") + b"PK\x03\x04 a zip archive riding along"
    picture = normalise_picture(data, **LIMITS)
    assert b"PK\x03\x04" not in picture.data


# --- refused --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (encoded(banded(), "GIF"), "GIF"),
        (b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>", "SVG"),
        (b"  <svg onload='alert(1)'></svg>", "SVG"),
        (b"just some text, named avatar.png", "JPEG, PNG and WebP"),
        (encoded(banded(), "BMP"), "BMP"),
        (encoded(banded(), "TIFF"), "TIFF"),
        (b"%PDF-1.4 ...", "PDF"),
    ],
    ids=["gif", "svg", "svg-with-script", "text", "bmp", "tiff", "pdf"],
)
def test_other_formats_are_refused_clearly(data: bytes, what: str) -> None:
    with pytest.raises(errors.PictureUnsupportedFormat) as caught:
        normalise_picture(data, **LIMITS)
    assert what in caught.value.message
    assert caught.value.code == "picture_unsupported_format"


def test_empty_and_oversized_files_are_refused() -> None:
    with pytest.raises(errors.PictureEmpty):
        normalise_picture(b"", **LIMITS)
    with pytest.raises(errors.PictureTooLarge) as caught:
        normalise_picture(encoded(banded(), "PNG"), max_bytes=100, max_pixels=10**6)
    assert caught.value.code == "picture_too_large"


@pytest.mark.parametrize("pillow_format", ["JPEG", "PNG", "WEBP"])
def test_truncated_pictures_are_refused(pillow_format: str) -> None:
    noisy = Image.effect_noise((400, 400), 64).convert("RGB")
    data = encoded(noisy, pillow_format)
    with pytest.raises(errors.PictureUndecodable):
        normalise_picture(data[: len(data) // 2], **LIMITS)


def test_more_pixels_than_allowed_are_refused_before_decoding() -> None:
    big = encoded(Image.new("L", (6000, 6000)), "PNG")  # 36 Mpx in ~40 KB
    with pytest.raises(errors.PictureTooManyPixels) as caught:
        normalise_picture(big, **LIMITS)
    assert caught.value.code == "picture_too_many_pixels"
    assert isinstance(caught.value, errors.PictureTooLarge)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width`×`height` (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("width", "height"), [(10_000, 10_000), (100_000, 100_000)], ids=["100-Mpx", "10-Gpx"]
)
def test_decompression_bombs_are_refused_fast(width: int, height: int) -> None:
    """Above Pillow's own limits too (it warns at 89 Mpx and refuses at 179 Mpx)."""
    started = time.perf_counter()
    with pytest.raises(errors.PictureTooManyPixels):
        normalise_picture(png_claiming(width, height), **LIMITS)
    assert time.perf_counter() - started < 0.5


def test_pillow_global_limit_is_left_alone() -> None:
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(errors.PictureTooManyPixels):
        normalise_picture(encoded(banded(), "PNG"), max_bytes=10**7, max_pixels=10)
    assert Image.MAX_IMAGE_PIXELS == before


# --- drawn pictures -------------------------------------------------------------------------


def test_placeholder_shows_initials_on_a_grey_disc() -> None:
    picture = placeholder_picture("åö", size=128)
    image = opened(picture).convert("RGB")

    assert (picture.width, picture.height, picture.content_type) == (128, 128, "image/webp")
    assert close_to(image.getpixel((1, 1)), (255, 255, 255), 10)  # type: ignore[arg-type]
    assert close_to(image.getpixel((64, 10)), (154, 165, 177), 20)  # type: ignore[arg-type]
    middle = np.asarray(image.crop((30, 40, 98, 88)))
    assert (middle > 245).all(axis=2).any()  # white letters


def test_avatars_are_deterministic_per_seed() -> None:
    first = draw_avatar("Anna-Karin Berg", seed=7)
    assert first == draw_avatar("Anna-Karin Berg", seed=7)
    assert first.data != draw_avatar("Anna-Karin Berg", seed=8).data
    assert (first.width, first.height) == (256, 256)
    assert opened(first).format == "WEBP"


def test_initials() -> None:
    assert initials_of("Anna-Karin Berg") == "AB"
    assert initials_of("Örjan  Åberg af Ström") == "ÖS"
    assert initials_of("cher") == "C"
    assert initials_of("  ") == "?"
