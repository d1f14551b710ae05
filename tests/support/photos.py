"""Small photos for the media tests: a JPEG carrying EXIF with a GPS position and a
comment, a PNG with text and eXIf chunks (never decoded: only their segments matter)."""

from __future__ import annotations

import struct
import zlib

GPS = b"GPS 21.0285N 105.8542E"


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_with_exif(scan: bytes = b"\x12\x34 recipe pixels \x56") -> bytes:
    """SOI, JFIF, EXIF (with GPS), a comment, a quantisation table, the scan, EOI."""
    return (
        b"\xff\xd8"
        + _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + _segment(0xE1, b"Exif\x00\x00MM\x00*" + GPS)
        + _segment(0xFE, b"taken at grandma's house")
        + _segment(0xDB, b"\x00" + bytes(range(64)))
        + _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + scan
        + b"\xff\xd9"
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_with_text() -> bytes:
    """A 1x1 PNG with a tEXt location and an eXIf chunk."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"tEXt", b"Location\x00" + GPS)
        + _chunk(b"eXIf", b"MM\x00*" + GPS)
        + _chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + _chunk(b"IEND", b"")
    )
