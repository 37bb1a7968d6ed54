"""Digits written in public handwriting fonts: a data set of the shapes such fonts give digits.

Why: people read numbers set in handwriting fonts (forms, apps, signs), and a font draws each digit
its own way: a narrow 7 with a short bar, a 1 with a long flag, a 2 without a foot loop. MNIST and
USPS hold few of those. Each font here is an npm ``@fontsource`` package (OFL or Apache licensed),
pinned by version and npm's sha512 integrity, downloaded into ``<data dir>/fonts/`` on first use and
verified every time. :data:`FONTS` puts every font in one split: the ``test`` fonts are for
measuring (``inkdigit robustness --dataset fonts``, ``inkdigit evaluate --dataset fonts``) and are
never trained on; the ``train`` fonts may be. None is one of the reserved families the robustness
issue lists (:data:`RESERVED`), which are refused by name.

Each font gives ``VARIANTS`` images of each digit, as a data set stores them: (SIDE, SIDE) uint8,
ink bright on black, the glyph at a random size, turned by up to ±6°, its height 70 % of the image
and centred on its box, reproducible from the font's name.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from inkdigit import paths
from inkdigit.training import data
from inkdigit.training.data import DataError, Digits, Split

SIDE = 56  #: side of each image (px): room for a font's fine strokes, still small
VARIANTS = 30  #: images of each digit per font
#: families the robustness issue keeps for its held-out evaluation (Debian font packages): never used
RESERVED = ("dkg-handwriting", "breip", "bwht", "femkeklaver", "humor-sans", "comic-neue", "cabin-sketch",
            "dancing-script", "kaushan-script", "klee", "kristi", "leckerli-one", "kiloji")


@dataclass(frozen=True)
class Font:
    """One npm ``@fontsource`` package; ``integrity`` is npm's ``sha512-…`` of its tarball."""

    package: str
    version: str
    integrity: str
    split: Split
    license: str

    @property
    def tarball(self) -> str:
        return f"{self.package}-{self.version}.tgz"

    @property
    def member(self) -> str:
        """The font file inside the tarball: the Latin subset at weight 400."""
        return f"package/files/{self.package}-latin-400-normal.woff"


FONTS: tuple[Font, ...] = (
    Font("architects-daughter", "5.3.0", "sha512-uezOgAlbhmf9nDW69VYq31lXNA+0uRFWXBGCSFWLXVcrNESFHpNjvu11kJss1PMsf"
         "H/YKz1hnnYB+JSNI/t+ew==", "test", "OFL-1.1"),
    Font("caveat", "5.3.0", "sha512-eHTfzQxFSW9ABERRLNruHoNJmKed2J7pqTUc5lp4a4POMgXGKpxmWj3d9Hz10kmAg6iuTTLe6Uagb"
         "A4bnsmfQw==", "train", "OFL-1.1"),
    Font("coming-soon", "5.3.0", "sha512-a5SW74ZAVTiGhu3Ml+rRvySYiW4kCXps+CTfPGIoEMbOl11Cy2xOF5UE2Pxlili4fGYrd/bA"
         "StaDFqbtEemx6A==", "test", "Apache-2.0"),
    Font("gloria-hallelujah", "5.3.0", "sha512-U4gt7qqWGn4bysvZZ9BBv8dlRzb11dFUMV8t7xQg26th2zPou/obRjR7MlxeTvVxY"
         "d1geWnvZAJprh/bQOG3dw==", "train", "OFL-1.1"),
    Font("gochi-hand", "5.3.0", "sha512-IW6Xo3wbZuTLyx7hZzIr7+VSQwQ3oEiLZRphBnuNVaK+dhdxwYw57/r1NVi8x1ubX4OYyCG2"
         "S04mH6tLhanIsQ==", "test", "OFL-1.1"),
    Font("handlee", "5.3.0", "sha512-bginDzMq4WhtYCcCR5O/WUh6mjXgZ17miwY4mSCR6+Z5iXaUGc71GuFHdFKsZBTO+9CZqRRfXaGt"
         "TSz4IIf29Q==", "train", "OFL-1.1"),
    Font("homemade-apple", "5.3.0", "sha512-awJSYTbSY3SroC8nirEhDauHvERVvm0LI3FpUHsPZXl9Tht1xrqhiI8ro4yf3ROcvQ7C"
         "fFJ/2+DLcOHBOXhJKw==", "test", "Apache-2.0"),
    Font("indie-flower", "5.3.0", "sha512-Wo5eN/ruEQcyC3+ArzhlpqWQgph3VuCNbJlEkVw17LUd0uyTHOb9bTec4g9njQzjiL/ijAC"
         "F27sSwy90L6kZBg==", "train", "OFL-1.1"),
    Font("just-another-hand", "5.3.0", "sha512-bTlWMHx7fSJK5LGAJVlna6ZkOPsgz71J2lBGl931BiigvHeV0/5y7hT2evZWEztlEt"
         "NJ29ksqLpJcYc1qZ0HFA==", "test", "Apache-2.0"),
    Font("kalam", "5.3.0", "sha512-FDkVoDfPDCSN/eO81FOYtUI67eMgpVBJmjBtAqSL0PmEhJyeFY2biC+CR+yEttksgXR9+swpFdYmQT"
         "yjwBq80Q==", "train", "OFL-1.1"),
    Font("nanum-pen-script", "5.3.0", "sha512-at9MFL8ga0A3Xce1+CO6/56F/SHIlf++D4vVKw3yCNRPKh6JU0UgZ3r9un0qHPVxx0Mi"
         "q2bGZ35RRRlu/4BIDg==", "test", "OFL-1.1"),
    Font("nothing-you-could-do", "5.3.0", "sha512-695oxA7Odedd4rqN9aDhgVUwtyYhfmIJH02y32g/B0yoaVMRwTCZe3TYFt8Lo"
         "dpKeN/8v5w+svcyde0eBBE28g==", "train", "OFL-1.1"),
    Font("patrick-hand", "5.3.0", "sha512-V8C38IlIFfdWg0Xtri3F7sLCVpm069rUwn6w4n+oyn38gt7H4arOJmuReg3tAw1Q6jHqZp8"
         "9wTnAAJagq4Atxw==", "test", "OFL-1.1"),
    Font("permanent-marker", "5.3.0", "sha512-ZO/NtYW4SCc/iY8N3dmjWyDITcXJ/vhWZFgnwRcvzwCKKnScMrM/a2/6VHlsjCVuIgm"
         "PzNrCFbedEYhv+/jJBg==", "train", "Apache-2.0"),
    Font("reenie-beanie", "5.3.0", "sha512-PgEiqKdPCLlvdY2IMWMBdYyMdr1mo1zxVBRNFlo3gclnCz560iiyTTt0dU4/VIGnjhyAb3"
         "gSWIQL0qXnn5oaYw==", "test", "OFL-1.1"),
    Font("rock-salt", "5.3.0", "sha512-3Zy0QtrDbq5jrAoMz1I3fXSitSpD46m6S+5W/+hfTZtpbxq9YAC1QoXkwUYDQxtfc8O0k8Qtl76"
         "gULQ+uCMznQ==", "train", "Apache-2.0"),
    Font("schoolbell", "5.3.0", "sha512-7AWeUHHTiLIKz2V8d0fuG7mw8tlEoQ8Z8dtTpXTEs9hE2z6YFe1RjCCFtYuaSuPLZqYNVqzQ7o"
         "wG/xJpTyY55w==", "test", "Apache-2.0"),
    Font("shadows-into-light", "5.3.0", "sha512-3dvv0i8/ZwLMY08AAlTLivHUdNQYB6Fxe92d7BZiGbHY2GQnCxEd8JC9CBzxTiP4iy"
         "WNa6OZn9LXF+xjc9LaGw==", "train", "OFL-1.1"),
    Font("short-stack", "5.3.0", "sha512-nhIm4HgWq6AsM9Sg32OrsC298avDiDhqoMRMYpv5T5OSCIpAwPXpnIgJYJVLzkSC9hOqhKxX5"
         "NGZ2ViaDM+7MQ==", "test", "OFL-1.1"),
    Font("zeyada", "5.3.0", "sha512-c2bBcLATKk5vGouGX5NeHiHEom1u+7TiHsdfNPIUgO0DL3jl5PTGWWjlMjoPh2vhllA9XiKCTS/8MY2"
         "ylT95vw==", "train", "OFL-1.1"),
)


def _verified(raw: bytes, font: Font, where: str) -> bytes:
    digest = "sha512-" + base64.b64encode(hashlib.sha512(raw).digest()).decode()
    if digest != font.integrity:
        raise DataError(f"{where} does not match its expected checksum (got {digest[:19]}…, expected "
                        f"{font.integrity[:19]}…); delete it and run the command again to download a fresh copy.")
    return raw


def _download(font: Font, dest: Path) -> None:
    url = f"{paths.font_registry()}/@fontsource/{font.package}/-/{font.tarball}"
    try:
        data.download_to(url, dest, lambda part: _verified(part.read_bytes(), font, url))
    except (OSError, TimeoutError) as exc:
        raise DataError(f"The font {font.package} {font.version} is not in {dest.parent} and could not be "
                        f"downloaded from {url} ({exc}); copy {font.tarball} there or point --data-dir / "
                        "INKDIGIT_DATA_DIR at a directory whose fonts/ folder holds it.") from exc


def font_bytes(font: Font, root: str | os.PathLike[str] | None = None, download: bool = True) -> bytes:
    """The verified font file (WOFF) of ``font``, its tarball downloaded first if missing."""
    if any(r in font.package for r in RESERVED):
        raise DataError(f"{font.package} is one of the reserved handwriting fonts: it is never used here.")
    path = paths.data_dir(root) / "fonts" / font.tarball
    if not path.exists():
        if not download:
            raise DataError(f"{path} is missing; point --data-dir / INKDIGIT_DATA_DIR at a directory whose "
                            f"fonts/ folder holds {font.tarball}, or allow downloading.")
        _download(font, path)
    raw = _verified(path.read_bytes(), font, str(path))
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
            member = tar.extractfile(font.member)
            if member is None:
                raise KeyError(font.member)
            return member.read()
    except (tarfile.TarError, KeyError) as exc:
        raise DataError(f"{path} holds no {font.member} ({exc}).") from exc


def glyph(face: bytes, digit: int, rng: np.random.Generator) -> np.ndarray:
    """One image of ``digit`` in the font ``face`` (WOFF or TrueType bytes): see the module docstring."""
    size = int(rng.integers(48, 160))
    font = ImageFont.truetype(io.BytesIO(face), size)
    layer = Image.new("L", (3 * size, 3 * size), 0)
    ImageDraw.Draw(layer).text((size, size // 2), str(digit), font=font, fill=255)
    layer = layer.rotate(float(rng.uniform(-6, 6)), resample=Image.Resampling.BILINEAR)
    box = layer.getbbox()
    out = np.zeros((SIDE, SIDE), np.uint8)
    if box is None:
        return out
    ink = layer.crop(box)
    scale = min(0.7 * SIDE / ink.height, 0.9 * SIDE / ink.width)
    ink = ink.resize((max(1, round(ink.width * scale)), max(1, round(ink.height * scale))),
                     Image.Resampling.LANCZOS)
    x, y = (SIDE - ink.width) // 2, (SIDE - ink.height) // 2
    out[y:y + ink.height, x:x + ink.width] = np.asarray(ink)
    return out


def load_fonts(split: Split, root: str | os.PathLike[str] | None = None, download: bool = True) -> Digits:
    """Every font of ``split``: ``VARIANTS`` images of each digit per font, font by font."""
    images: list[np.ndarray] = []
    labels: list[int] = []
    checksums: dict[str, str] = {}
    for font in (f for f in FONTS if f.split == split):
        face = font_bytes(font, root, download)
        checksums[f"fonts/{Path(font.member).name}"] = hashlib.sha256(face).hexdigest()
        rng = np.random.default_rng([zlib.crc32(font.package.encode()), 20261205])
        for digit in range(10):
            images += [glyph(face, digit, rng) for _ in range(VARIANTS)]
            labels += [digit] * VARIANTS
    if not images:
        raise DataError(f"There are no {split} fonts; the fonts data set's splits are train and test.")
    stack, digits = np.stack(images), np.array(labels, dtype=np.int64)
    # the drawn images themselves too: a cache keyed by these checksums (dataset.prepare) then
    # follows any change to how the glyphs are drawn, not only to the font files
    checksums[f"fonts/{split}-images"] = hashlib.sha256(stack.tobytes() + digits.tobytes()).hexdigest()
    return Digits(stack, digits, checksums)
