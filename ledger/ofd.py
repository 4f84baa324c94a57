"""The OFD container (GB/T 33190-2016) as both sides read it: a ZIP package of XML files in
the ``http://www.ofdspec.org/2016`` namespace, entered through ``/OFD.xml``.

Reading is bounded, because a verifier opens files from strangers: at most ``MAX_ENTRIES``
entries and ``MAX_TOTAL`` bytes uncompressed (measured while inflating, not taken from the
headers), no duplicate, absolute-escaping or non-UTF-8 names, and XML files of at most
``MAX_XML`` bytes (a megabyte of empty elements already costs ~20 MB parsed) without DTDs or
entities (defusedxml). Anything else is an ``OfdError``.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeXml

from ledger.errors import LedgerError

__all__ = [
    "MAX_ENTRIES",
    "MAX_TOTAL",
    "MAX_XML",
    "NS",
    "OfdError",
    "OfdPackage",
    "is_ofd",
    "q",
    "resolve",
]

NS = "http://www.ofdspec.org/2016"
MAX_ENTRIES = 512
MAX_TOTAL = 32 * 1024 * 1024
MAX_XML = 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class OfdError(LedgerError, ValueError):
    """An OFD package that cannot be read: not a ZIP, too large, a bad name, malformed XML."""


def q(tag: str) -> str:
    """``tag`` in the OFD namespace, as ElementTree spells it."""
    return f"{{{NS}}}{tag}"


def resolve(base: str, loc: str) -> str:
    """The package path that ``loc`` (an ``ST_Loc``) names, seen from the file ``base`` or,
    when ``base`` ends with ``/``, from that folder: absolute when it starts with ``/``,
    relative otherwise. Returned without the leading ``/``; ``OfdError`` if it leaves the
    package."""
    loc = loc.strip()
    if not loc:
        raise OfdError("an empty location")
    folder = base if base.endswith("/") else posixpath.dirname(base)
    joined = loc if loc.startswith("/") else posixpath.join("/", folder, loc)
    path = posixpath.normpath(joined)
    if not path.startswith("/") or path.startswith("//") or "/../" in f"{path}/":
        raise OfdError(f"{loc!r} leaves the package")
    return path.lstrip("/")


@dataclass(frozen=True)
class OfdPackage(Mapping[str, bytes]):
    """The files of one OFD package by path (no leading ``/``), in package order."""

    files: Mapping[str, bytes]

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))

    def __getitem__(self, path: str) -> bytes:
        return self.files[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def xml(self, path: str) -> Element:
        """The parsed XML file ``path``; ``OfdError`` if missing or malformed."""
        if path not in self.files:
            raise OfdError(f"{path} is missing from the package")
        return parse_xml(self.files[path], path)

    def with_files(self, changes: Mapping[str, bytes]) -> OfdPackage:
        """A new package with ``changes`` added or replaced."""
        return OfdPackage({**self.files, **changes})

    def to_zip(self, *, modified: datetime | None = None) -> bytes:
        """The package as ZIP bytes (deflated, in package order, reproducible)."""
        stamp = modified.timetuple()[:6] if modified else _ZIP_EPOCH
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, data in self.files.items():
                info = zipfile.ZipInfo(path, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        return out.getvalue()

    @classmethod
    def from_zip(cls, data: bytes) -> OfdPackage:
        """Read a package, within the limits above."""
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            entries = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise OfdError(f"not a ZIP package: {exc}") from exc
        if len(entries) > MAX_ENTRIES:
            raise OfdError(f"more than {MAX_ENTRIES} entries")
        files: dict[str, bytes] = {}
        budget = MAX_TOTAL
        for entry in entries:
            if entry.is_dir():
                continue
            name = entry.filename
            if resolve("/", name) != name or name in files:
                raise OfdError(f"bad or repeated entry name {name!r}")
            try:
                with archive.open(entry) as fh:
                    content = fh.read(budget + 1)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError) as exc:
                raise OfdError(f"cannot inflate {name}: {exc}") from exc
            budget -= len(content)
            if budget < 0:
                raise OfdError(f"more than {MAX_TOTAL} bytes uncompressed")
            files[name] = content
        return cls(files)


def is_ofd(data: bytes) -> bool:
    """Whether ``data`` looks like an OFD file: a ZIP package with an entry ``OFD.xml`` (only
    the central directory is read; nothing is inflated). Never raises."""
    if not data.startswith(_ZIP_MAGIC):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "OFD.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        return False


def parse_xml(data: bytes, name: str) -> Element:
    """Parse untrusted XML: at most ``MAX_XML`` bytes, no DTD, no entities, no external
    references."""
    if len(data) > MAX_XML:
        raise OfdError(f"{name} is larger than {MAX_XML} bytes")
    try:
        element: Element = SafeXml.fromstring(data, forbid_dtd=True)
        return element
    except (DefusedXmlException, SyntaxError, ValueError) as exc:
        raise OfdError(f"{name} is not well-formed XML: {exc}") from exc
