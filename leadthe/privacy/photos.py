"""Profile photos: checked by content (not by name), re-encoded small, every metadata field dropped."""
from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError
from flask_babel import gettext as _

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# Refused before decoding: a tiny file can hold a huge picture (a 170 KB PNG of 6300 × 6300 pixels took
# 460 MB to decode). About 12 megapixels keeps a PNG's decoded pixels under 50 MB; a 12 MP phone photo
# (4032 × 3024) still fits.
MAX_PIXELS = 12_600_000
SIZE = 256


class PhotoError(ValueError):
    pass


def _too_large() -> PhotoError:
    return PhotoError(_("That picture is too large. Use one of at most 12 megapixels (for example 4000 × 3000 pixels)."))


def reencode_photo(data: bytes) -> bytes:
    """A square-fitting JPEG of at most 256×256 pixels, without EXIF (location included), ICC or comments."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            if fmt in ALLOWED_FORMATS and width * height <= MAX_PIXELS:
                probe.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large() from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise PhotoError(_("That file is not a picture we can read. Use a JPEG, PNG, WebP or GIF.")) from exc
    if fmt not in ALLOWED_FORMATS:
        raise PhotoError(_("Use a JPEG, PNG, WebP or GIF picture."))
    if width * height > MAX_PIXELS:
        raise _too_large()
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (SIZE, SIZE))  # a JPEG is decoded at 1/2, 1/4 or 1/8 of its size straight away
            img.thumbnail((SIZE, SIZE))  # others are reduced by a whole factor first, then resampled
            img = ImageOps.exif_transpose(img)  # the orientation the camera meant, on the small picture
            rgba = img.convert("RGBA")
            clean = Image.new("RGB", rgba.size, (255, 255, 255))
            clean.paste(rgba, mask=rgba)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoError(_("That picture could not be read completely. Try another file.")) from exc
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=82, optimize=True)  # a fresh image: no metadata is carried over
    return out.getvalue()
