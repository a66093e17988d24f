"""The names a message's parts are stored under: their own file name, else one made from
their Content-ID or their type."""

from __future__ import annotations

import hashlib

import pytest

from commands.mail.parsing import parse


def store(data: bytes) -> tuple[str, int]:
    return hashlib.sha256(data).hexdigest(), len(data)


def names(*parts: str) -> list[str]:
    """The stored names of a multipart/related message's parts after its HTML."""
    body = "".join(f"--b\r\n{part.strip()}\r\n\r\nAAAA\r\n" for part in parts)
    raw = (
        "From: Ana <ana@example.org>\r\nTo: support@ledgerdesk.local\r\nSubject: Screens\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/html\r\n\r\n<p>See.</p>\r\n" + body + "--b--\r\n"
    )
    return [part.name for part in parse(raw.encode(), store).parts]


@pytest.mark.parametrize(
    ("headers", "name"),
    [
        # Outlook's Content-ID carries the file name
        ("Content-Type: image/png\r\nContent-ID: <image001.png@01DB8D1A.5C3E2F10>", "image001.png"),
        # One that is no file name, or not one of the part's type, gives way to the type
        ("Content-Type: image/png\r\nContent-ID: <ii_m7v0a1b20>", "image-1.png"),
        ("Content-Type: image/jpeg\r\nContent-ID: <part1.Xy7.Ab3@example.org>", "image-1.jpg"),
        ("Content-Type: image/gif\r\nContent-ID: <logo.png@example.org>", "image-1.gif"),
        ("Content-Type: image/png\r\nContent-ID: <../../x.png@example.org>", ".._.._x.png"),
        ("Content-Type: image/png", "image-1.png"),
        ("Content-Type: video/mp4", "video-1.mp4"),
        ("Content-Type: application/pdf", "part-1.pdf"),
        ("Content-Type: text/calendar", "part-1.ics"),
        ("Content-Type: application/x-unknown-thing", "part-1.bin"),
        # A real file name wins
        (
            'Content-Type: image/png\r\nContent-Disposition: inline; filename="board.png"\r\n'
            "Content-ID: <image001.png@x>",
            "board.png",
        ),
        ('Content-Type: image/png; name="shot.png"\r\nContent-ID: <ii_1>', "shot.png"),
    ],
)
def test_a_part_without_a_file_name_is_named_from_its_content_id_or_type(
    headers: str, name: str
) -> None:
    assert names(headers) == [name]


def test_unnamed_parts_of_one_type_get_names_of_their_own() -> None:
    assert names("Content-Type: image/png", "Content-Type: image/png") == [
        "image-1.png",
        "image-2.png",
    ]
