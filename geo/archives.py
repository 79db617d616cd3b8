"""Zip archives from uploads (zipped Shapefiles, KMZ, XLSX), inspected before anything parses them.

Nothing is extracted to disk under a name from the archive: entries are read into memory, with
the total uncompressed size counted as the bytes come out (a zip's declared sizes can lie), and
names that climb out of the archive (``../``), absolute paths, drive letters, nested archives and
GDAL virtual files are refused before any entry is read.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from geo.errors import ImportRefusedError, LimitExceededError, UnsafeFileError

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_NESTED_SUFFIXES = (".zip", ".kmz", ".xlsx", ".gz", ".bz2", ".7z", ".rar", ".tar", ".tgz", ".xz")
_GDAL_VIRTUAL_SUFFIXES = (".vrt", ".ovf", ".gdalg.json")
_DRIVE = re.compile(r"^[a-zA-Z]:")


@dataclass(frozen=True)
class ArchiveMember:
    name: str
    size: int


def _check_name(name: str) -> None:
    if not name:
        raise ImportRefusedError("the archive contains an entry without a name: re-create the zip")
    cleaned = name.replace("\\", "/")
    parts = PurePosixPath(cleaned).parts
    if cleaned.startswith("/") or _DRIVE.match(cleaned) or ".." in parts:
        raise UnsafeFileError(
            f"the archive contains the entry {name!r}, whose path points outside the archive"
            " (absolute or with '..'): refused; re-create the zip from the files themselves")
    if "\x00" in name:
        raise UnsafeFileError(f"the archive contains an entry name with a NUL byte ({name!r}): refused")


def inspect_zip(data: bytes, *, max_entries: int, max_uncompressed_bytes: int,
                allow_suffixes: tuple[str, ...] | None = None) -> list[ArchiveMember]:
    """Check a zip archive without extracting it and list its file entries.

    Parameters
    ----------
    data : bytes
        The archive.
    max_entries, max_uncompressed_bytes : int
        Limits on the number of entries and on the declared uncompressed size.
    allow_suffixes : tuple of str, optional
        When given, nested archives are refused only if their suffix is not in this tuple
        (XLSX files are zips of XML and never contain archives, so the default refuses all).

    Raises
    ------
    UnsafeFileError
        For entry names outside the archive, nested archives, GDAL virtual files, encryption.
    LimitExceededError
        For too many entries or too large a declared uncompressed size.
    ImportRefusedError
        If the bytes are not a readable zip archive.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, IndexError, EOFError,
            OSError) as exc:
        raise ImportRefusedError(f"the file is not a readable zip archive ({exc}): re-create it") from exc
    if len(infos) > max_entries:
        raise LimitExceededError("archive entries", actual=len(infos), allowed=max_entries)
    declared = sum(info.file_size for info in infos)
    if declared > max_uncompressed_bytes:
        raise LimitExceededError(
            "uncompressed size (bytes)", actual=declared, allowed=max_uncompressed_bytes,
            advice="this looks like a zip bomb or a very large archive; upload only the layer you need")
    members = []
    for info in infos:
        _check_name(info.filename)
        if info.is_dir():
            continue
        lowered = info.filename.lower()
        if info.flag_bits & 0x1:
            raise ImportRefusedError(f"the archive entry {info.filename!r} is encrypted: upload it without a password")
        if lowered.endswith(_GDAL_VIRTUAL_SUFFIXES):
            raise UnsafeFileError(
                f"the archive contains {info.filename!r}, a GDAL virtual file that can read other files"
                " or open network connections: refused; remove it from the zip")
        nested = lowered.endswith(_NESTED_SUFFIXES)
        if nested and not (allow_suffixes and lowered.endswith(allow_suffixes)):
            raise UnsafeFileError(
                f"the archive contains another archive ({info.filename!r}); nested archives are refused:"
                " unpack it and upload the inner file")
        members.append(ArchiveMember(info.filename, info.file_size))
    return members


def read_member(data: bytes, name: str, *, budget: int) -> bytes:
    """Read one entry into memory, refusing it once more than ``budget`` bytes come out.

    The declared size is not trusted: a forged header cannot make this read more than
    ``budget + 1`` bytes.
    """
    archive = zipfile.ZipFile(io.BytesIO(data))
    try:
        with archive.open(name) as handle:
            content = handle.read(budget + 1)
    except (zipfile.BadZipFile, zlib.error, RuntimeError, ValueError, IndexError, EOFError, OSError,
            NotImplementedError) as exc:
        raise ImportRefusedError(f"the archive entry {name!r} cannot be read ({exc}): re-create the zip") from exc
    if len(content) > budget:
        raise LimitExceededError(
            "uncompressed size (bytes)", actual=len(content), allowed=budget, more_than=True,
            advice=f"the entry {name!r} expands beyond what is allowed (a zip bomb?); refused")
    return content
