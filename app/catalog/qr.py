"""A course's share link and its QR code, for posters and WeChat groups.

The link is absolute and built from the installation's public URL, as a certificate's
verification link is (app.certificates.service.verify_url): behind a proxy the Host header
is not to be trusted, and a poster must carry the address people can reach."""

import io

import segno

# Error level M, four modules of quiet zone (the QR standard's), as the certificates' codes.
ERROR = "m"
BORDER = 4
PNG_SCALE = 10  # 10 px a module: a 41-module code is 490 px, sharp on an A4 poster


def course_url(public_url: str, path: str) -> str:
    return f"{public_url.rstrip('/')}{path}"


def svg(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error=ERROR, micro=False).save(
        out, kind="svg", border=BORDER, scale=4, xmldecl=False, title=url
    )
    return out.getvalue()


def png(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error=ERROR, micro=False).save(out, kind="png", border=BORDER, scale=PNG_SCALE)
    return out.getvalue()
