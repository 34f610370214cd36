"""Profile photos: checked by content (not by name), re-encoded small, every metadata field dropped."""
from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError
from flask_babel import gettext as _

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding
SIZE = 256


class PhotoError(ValueError):
    pass


def reencode_photo(data: bytes) -> bytes:
    """A square-fitting JPEG of at most 256×256 pixels, without EXIF (location included), ICC or comments."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise PhotoError(_("That file is not a picture we can read. Use a JPEG, PNG, WebP or GIF.")) from exc
    if fmt not in ALLOWED_FORMATS:
        raise PhotoError(_("Use a JPEG, PNG, WebP or GIF picture."))
    if width * height > MAX_PIXELS:
        raise PhotoError(_("That picture is too large. Use one under 40 megapixels."))
    try:
        with Image.open(io.BytesIO(data)) as img:
            img = ImageOps.exif_transpose(img)  # keep the orientation the camera meant, then drop EXIF
            img.thumbnail((SIZE, SIZE))
            clean = Image.new("RGB", img.size, (255, 255, 255))
            clean.paste(img.convert("RGBA"), mask=img.convert("RGBA").getchannel("A"))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoError(_("That picture could not be read completely. Try another file.")) from exc
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=82, optimize=True)  # a fresh image: no metadata is carried over
    return out.getvalue()
