"""Certificate fonts: found through fontconfig, and pre-subset into copies by character set.

A Noto CJK face holds 65,535 glyphs, and WeasyPrint keeps glyph ids when it subsets a font
for a PDF, so every certificate printed with it carried empty room for every glyph up to the
last one it used (about 300 KB for 𠮷, glyph 59,526) and took HarfBuzz most of the render to
cut. So each face is cut once into copies by character set, smallest and most used first:
the characters certificates print day to day (GB2312, Latin, punctuation), the rest of the
Basic Multilingual Plane (GBK's first: 玥, 䶮), and the supplementary planes (𠮷). A
certificate embeds only the copies it draws from, each with room for its own glyphs only.
They are built at first use into a cache folder, keyed by the source font's checksum, and
named in that order in the design's CSS before the full face, which stays as the last resort.
The copies are never committed: they derive from whatever font the machine has.
"""

import contextlib
import ctypes
import ctypes.util
import fcntl
import hashlib
import logging
import os
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from multiprocessing import get_context
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Face:
    """One installed face of a family: a file, its index in a collection, and its weight
    (fontconfig's scale: 80 regular, 200 bold)."""

    path: Path
    index: int
    weight: int


@dataclass(frozen=True)
class FaceCopy:
    """A built pre-subset copy of a face, for an @font-face rule."""

    family: str
    path: Path
    weight: int  # CSS weight: 400, 700


def faces(family: str) -> list[Face]:
    """The faces fontconfig lists for the family, as WeasyPrint's own configuration sees them
    (FONTCONFIG_FILE and the rest of fontconfig's environment included); [] when none."""
    lib = _fontconfig()
    if lib is None:
        return []
    config = lib.FcInitLoadConfigAndFonts()
    pattern = lib.FcNameParse(_fc_escape(family).encode())
    objects = lib.FcObjectSetCreate()
    for name in (b"file", b"index", b"weight"):
        lib.FcObjectSetAdd(objects, name)
    found = lib.FcFontList(config, pattern, objects)
    try:
        result = []
        for i in range(found.contents.nfont if found else 0):
            font = found.contents.fonts[i]
            file, index, weight = ctypes.c_char_p(), ctypes.c_int(), ctypes.c_int(80)
            if lib.FcPatternGetString(font, b"file", 0, ctypes.byref(file)) != 0:
                continue
            lib.FcPatternGetInteger(font, b"index", 0, ctypes.byref(index))
            lib.FcPatternGetInteger(font, b"weight", 0, ctypes.byref(weight))
            result.append(Face(Path(os.fsdecode(file.value or b"")), index.value, weight.value))
        return sorted(result, key=lambda face: (face.weight, str(face.path), face.index))
    finally:
        if found:
            lib.FcFontSetDestroy(found)
        lib.FcObjectSetDestroy(objects)
        lib.FcPatternDestroy(pattern)
        lib.FcConfigDestroy(config)


@cache
def common_characters() -> frozenset[int]:
    """GB2312 (6,763 hanzi and its symbols), ASCII, Latin-1 and Latin Extended-A for
    foreigners' names, and the general, CJK and full-width punctuation blocks."""
    chars = set(range(0x20, 0x7F)) | set(range(0xA0, 0x180))
    chars |= set(range(0x2000, 0x2070)) | set(range(0x3000, 0x3040)) | set(range(0xFF01, 0xFFEF))
    chars.add(0x30FB)  # the katakana middle dot some people type in minority names
    for first in range(0xA1, 0xF8):
        for second in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(ord(bytes((first, second)).decode("gb2312")))
    return frozenset(chars)


def rare_characters() -> frozenset[int]:
    """The rest of the Basic Multilingual Plane, as far as a face covers it."""
    return frozenset(range(0x20, 0x10000)) - common_characters()


def astral_characters() -> frozenset[int]:
    """The supplementary planes: CJK Extension B and later (𠮷 U+20BB7)."""
    return frozenset(range(0x10000, 0x30000))


# The sets a design's copies are cut to (design.toml's `copies`), and the characters of each
# that come first in its copy: WeasyPrint keeps room for every glyph up to the last one a
# certificate uses, so the likelier a character, the lower its glyph id should be.
CHARACTER_SETS: dict[str, Callable[[], frozenset[int]]] = {
    "common": common_characters,
    "rare": rare_characters,
    "astral": astral_characters,
}


def _likelier(character_set: str, code: int) -> bool:
    # GB2312's level 1, the 3,755 frequent hanzi. The other sets keep the font's own order
    # (Adobe-GB1's, by the standards' supplements), which puts 䶮 at 8,142 of 34,759 in its
    # copy and 玥 at 14,566; ordered by GBK first, 䶮 went last and took 54 KB more.
    return character_set != "common" or not _level_2_hanzi(code)


# HarfBuzz's default horizontal features, as fontTools lists them, and the designs' own
# (pwid: proportional punctuation in English lines). Vertical ones are left out.
FEATURES = (
    "abvm", "blwm", "calt", "ccmp", "clig", "curs", "dist", "kern", "liga", "locl",
    "mark", "mkmk", "rclt", "rlig", "rvrn", "pwid",
)  # fmt: skip
# The language systems a Simplified Chinese certificate shapes with (html lang="zh-CN").
LANGUAGES = ("ZHS",)
OPTIONS = {
    "notdef_outline": True,
    # Kept: WeasyPrint drops the stem hints when it embeds the font and keeps the blue
    # zones, which is what it does with the full face, so text looks exactly as before.
    "hinting": True,
    # Done once here rather than for every certificate (WeasyPrint desubroutinizes too).
    "desubroutinize": True,
}


# Bumped when the way the copies are made changes in a way the values above do not show.
ORDER = "likelier characters first"


def cache_dir() -> Path:
    """Shared by every installation of the user: the copies depend only on the source font."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dandelion" / "fonts"


def face_copies(
    family: str, copies: dict[str, str], directory: Path | None = None
) -> list[FaceCopy]:
    """The pre-subset copies of every face of the family, one per character set
    ({"common": "Noto Serif CJK SC Common", ...}), built now if missing. Building takes a
    while (about a minute for a family) and happens once per machine and font version, in
    child processes so the caller's memory stays small."""
    directory = directory or cache_dir()
    wanted = {
        (face, character_set, name): _target(directory, face, character_set, name)
        for character_set, name in copies.items()
        for face in faces(family)
    }
    missing = [job for job, path in wanted.items() if not path.is_file()]
    if missing:
        directory.mkdir(parents=True, exist_ok=True)
        with _locked(directory):  # another process may be building the same copies
            missing = [job for job in missing if not wanted[job].is_file()]
            if missing:
                log.warning("building the certificate fonts %s once, in %s", family, directory)
                _build_all([(*job, wanted[job]) for job in missing])
    return [
        FaceCopy(name, path, 700 if face.weight >= 200 else 400)
        for (face, _, name), path in wanted.items()
    ]


def face_rules(copies: list[FaceCopy]) -> str:
    """@font-face rules naming the copies by file URL."""
    return "\n".join(
        f'@font-face {{ font-family: "{face.family}"; font-weight: {face.weight}; '
        f'src: url("{face.path.as_uri()}"); }}'
        for face in copies
    )


def _target(directory: Path, face: Face, character_set: str, name: str) -> Path:
    recipe = hashlib.sha256()
    recipe.update(_checksum(face.path, face.path.stat().st_size, face.path.stat().st_mtime_ns))
    recipe.update(
        f"{face.index}|{character_set}|{name}|{FEATURES}|{LANGUAGES}|{OPTIONS}|{ORDER}".encode()
    )
    # Every set is the common one or defined around it (the rest of its plane).
    recipe.update(",".join(map(str, sorted(common_characters()))).encode())
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return directory / f"{slug}.{face.path.stem}.{recipe.hexdigest()[:20]}.otf"


@cache
def _checksum(path: Path, size: int, mtime_ns: int) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.digest()


@contextlib.contextmanager
def _locked(directory: Path):
    with (directory / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build_all(jobs: list[tuple[Face, str, str, Path]]) -> None:
    # Spawned, not forked: the caller may hold threads and database connections.
    workers = min(len(jobs), os.cpu_count() or 1)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        for future in [pool.submit(_build, *job) for job in jobs]:
            future.result()


def _build(face: Face, character_set: str, name: str, target: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTCollection, TTFont

    with face.path.open("rb") as f:
        is_collection = f.read(4) == b"ttcf"
    font = TTCollection(face.path).fonts[face.index] if is_collection else TTFont(face.path)
    font.recalcTimestamp = False  # the same source gives the same bytes
    for tag in ("GSUB", "GPOS"):
        if tag in font:
            _keep_languages(font[tag].table, LANGUAGES)
    options = subset.Options(**OPTIONS)
    options.layout_features = list(FEATURES)
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=CHARACTER_SETS[character_set]() & set(font.getBestCmap()))
    subsetter.subset(font)
    _likelier_first(font, character_set)
    _rename(font, name)
    temp = target.with_suffix(f".{os.getpid()}.tmp")
    font.save(temp)
    os.replace(temp, target)
    for stale in target.parent.glob(f"{target.name.split('.')[0]}.{face.path.stem}.*.otf"):
        if stale != target:
            stale.unlink(missing_ok=True)


def _likelier_first(font, character_set: str) -> None:
    """Reorder the glyphs: the set's likelier characters first, and the glyphs no character
    maps to (punctuation's proportional forms). WeasyPrint keeps glyph ids when it subsets,
    so a certificate's font carries room for every glyph up to the last one it uses: with the
    3,755 frequent hanzi first, a common certificate carries about 4,500 glyphs instead of
    7,900 (a fifth less PDF and subsetting)."""
    from fontTools.ttLib.reorderGlyphs import reorderGlyphs

    order = font.getGlyphOrder()
    cmap = font.getBestCmap().items()
    rare = {name for code, name in cmap if not _likelier(character_set, code)}
    rare -= {name for code, name in cmap if _likelier(character_set, code)}
    position = {name: i for i, name in enumerate(order)}
    new_order = sorted(order, key=lambda name: (name != ".notdef", name in rare, position[name]))
    top = font["CFF "].cff.topDictIndex[0]
    # A CID-keyed font picks each glyph's private dictionary by glyph id, which
    # reorderGlyphs leaves as it was: it moves with its glyph here.
    selector = getattr(top, "FDSelect", None)
    old_dicts = {name: selector[i] for i, name in enumerate(order)} if selector else {}
    reorderGlyphs(font, new_order)
    if selector:
        font["CFF "].cff.topDictIndex[0].FDSelect.gidArray = [old_dicts[n] for n in new_order]


def _level_2_hanzi(code: int) -> bool:
    try:
        encoded = chr(code).encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and encoded[0] >= 0xD8  # rows 56-87: level 2, by radical


def _keep_languages(table, languages: tuple[str, ...]) -> None:
    """Only the default and the given language systems: Noto's Japanese, Korean and
    Traditional forms would otherwise come along with every character (13,000 glyphs)."""
    for record in table.ScriptList.ScriptRecord:
        records = record.Script.LangSysRecord
        record.Script.LangSysRecord = [r for r in records if r.LangSysTag.strip() in languages]
        record.Script.LangSysCount = len(record.Script.LangSysRecord)


def _rename(font, family: str) -> None:
    """A copy carries its own family name, so no PDF or font list mistakes it for the
    whole face (the SIL Open Font License asks the same of modified versions)."""
    names = font["name"]
    style = names.getDebugName(17) or names.getDebugName(2) or "Regular"
    postscript = re.sub(r"[^A-Za-z0-9]", "", family) + "-" + re.sub(r"[^A-Za-z0-9]", "", style)
    values = {1: family, 4: f"{family} {style}", 6: postscript, 16: family, 3: postscript}
    names.names = [record for record in names.names if record.nameID not in values]
    for name_id, value in values.items():
        names.setName(value, name_id, 3, 1, 0x409)
        names.setName(value, name_id, 1, 0, 0)


def _fc_escape(family: str) -> str:
    # FcNameParse reads "-" and ":" as separators of size and properties.
    return re.sub(r"([\\:,-])", r"\\\1", family)


class _FontSet(ctypes.Structure):
    _fields_ = [
        ("nfont", ctypes.c_int),
        ("sfont", ctypes.c_int),
        ("fonts", ctypes.POINTER(ctypes.c_void_p)),
    ]


@cache
def _fontconfig() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("fontconfig") or "libfontconfig.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    pointer = ctypes.c_void_p
    signatures = {
        "FcInitLoadConfigAndFonts": ([], pointer),
        "FcNameParse": ([ctypes.c_char_p], pointer),
        "FcObjectSetCreate": ([], pointer),
        "FcObjectSetAdd": ([pointer, ctypes.c_char_p], ctypes.c_int),
        "FcFontList": ([pointer, pointer, pointer], ctypes.POINTER(_FontSet)),
        "FcPatternGetString": (
            [pointer, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)],
            ctypes.c_int,
        ),
        "FcPatternGetInteger": (
            [pointer, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)],
            ctypes.c_int,
        ),
        "FcFontSetDestroy": ([ctypes.POINTER(_FontSet)], None),
        "FcObjectSetDestroy": ([pointer], None),
        "FcPatternDestroy": ([pointer], None),
        "FcConfigDestroy": ([pointer], None),
    }
    for function, (argtypes, restype) in signatures.items():
        getattr(lib, function).argtypes = argtypes
        getattr(lib, function).restype = restype
    return lib
