"""Photos as Hearth keeps and sends them: JPEG or PNG, with EXIF, GPS and text metadata
removed byte-exactly (no decoding, no imaging library), as a data: URL for a vision model.

A phone photo's EXIF block carries where it was taken and on what; a family's recipe photo
must not carry that to a model or into the knowledge base. JPEG metadata lives in APPn and
COM segments before the image data, PNG metadata in its text/eXIf/time chunks: both are
dropped, everything the picture needs (JFIF, ICC colour profile, Adobe colour transform,
tables, the scan itself) is copied as it was.
"""

from __future__ import annotations

import base64
import hashlib

JPEG = "image/jpeg"
PNG = "image/png"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_KEEP_APP = frozenset({0xE0, 0xE2, 0xEE})  # JFIF, ICC profile, Adobe
_PNG_DROP = frozenset({b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"})


class NotAnImage(ValueError):
    """The bytes are not a JPEG or PNG this module can clean."""


def sniff(data: bytes) -> str | None:
    """The photo's type from its first bytes (a file name or a platform's word may lie)."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(_PNG_SIGNATURE):
        return PNG
    return None


def strip_metadata(data: bytes) -> tuple[str, bytes]:
    """(type, the same picture without EXIF/GPS/XMP/comments); NotAnImage when unreadable."""
    kind = sniff(data)
    if kind == JPEG:
        return kind, _strip_jpeg(data)
    if kind == PNG:
        return kind, _strip_png(data)
    raise NotAnImage("not a JPEG or PNG")


def data_url(mime: str, data: bytes) -> str:
    """The photo inline, as OpenAI image content parts take it."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def digest(data: bytes) -> str:
    """A short fingerprint for logs and the answer's context (never the photo itself)."""
    return hashlib.sha256(data).hexdigest()[:16]


def _strip_jpeg(data: bytes) -> bytes:
    out = bytearray(data[:2])
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise NotAnImage("broken JPEG segment")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xDA:  # start of scan: the picture itself, to the end
            out += data[i:]
            return bytes(out)
        if 0xD0 <= marker <= 0xD8 or marker == 0x01:  # markers without a length
            out += data[i : i + 2]
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        end = i + 2 + length
        if length < 2 or end > len(data):
            raise NotAnImage("JPEG segment runs past the end")
        is_metadata = (0xE1 <= marker <= 0xEF and marker not in _JPEG_KEEP_APP) or marker == 0xFE
        if not is_metadata:
            out += data[i:end]
        i = end
    raise NotAnImage("JPEG without image data")


def _strip_png(data: bytes) -> bytes:
    out = bytearray(_PNG_SIGNATURE)
    i = len(_PNG_SIGNATURE)
    while i + 12 <= len(data):
        length = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if end > len(data):
            raise NotAnImage("PNG chunk runs past the end")
        if kind not in _PNG_DROP:
            out += data[i:end]
        i = end
        if kind == b"IEND":
            return bytes(out)
    raise NotAnImage("PNG without an end")
