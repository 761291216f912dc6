"""Document types: what a typed document certifies, loaded from versioned data files (pure).

A type (``anchor/proof/doctypes/<id>.v<version>.json``, described by ``doctype.schema.json`` in
the same folder) lists its public facts (shown to citizens), its private facts (committed,
never shown), the public date fact that ends its validity, whether the file's SHA-256 is
required, and a legal notice in French, German and English. An operator adds a type by putting
such a file in the folder named by ``ANCHOR_DOCTYPES_DIR``; no code changes.

`DocumentType.validate` checks the facts of one document against its type and returns them
normalised (Unicode NFC), or raises `InvalidInputError` naming the field
(``("body", "facts", "reference")``) in one sentence. See ``docs/proof-format.md``, section 6.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from anchor.errors import InvalidInputError

__all__ = [
    "BUILTIN_DIR",
    "DocumentType",
    "FactSpec",
    "TypeRegistry",
    "ValidFacts",
    "builtin_types",
    "load_types",
]

#: The folder of the types shipped with the package.
BUILTIN_DIR = Path(__file__).resolve().parent / "doctypes"
_FILE_NAME = re.compile(r"(?P<id>[a-z][a-z0-9.-]*)\.v(?P<version>[1-9][0-9]*)\.json")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Texts(BaseModel):
    """A text in French, German and English (Luxembourgish optional)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fr: str = Field(min_length=1, max_length=2000)
    de: str = Field(min_length=1, max_length=2000)
    en: str = Field(min_length=1, max_length=2000)
    lb: str | None = Field(default=None, min_length=1, max_length=2000)


class FactSpec(BaseModel):
    """One fact of a type: its name, kind, labels, whether it is required, its longest value."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str = Field(pattern=r"^[a-z][A-Za-z0-9]{0,31}$")
    kind: Literal["text", "reference", "address", "date"]
    required: bool
    max_length: int | None = Field(default=None, alias="maxLength", ge=1, le=1000)
    labels: Texts

    @model_validator(mode="after")
    def _length_for_text_only(self) -> FactSpec:
        if self.kind == "date" and self.max_length is not None:
            raise ValueError(f"the date fact {self.name} cannot have a maxLength")
        if self.kind != "date" and self.max_length is None:
            raise ValueError(f"the text fact {self.name} needs a maxLength")
        return self


class DocumentType(BaseModel):
    """A validated document type, frozen. Load the shipped and the operator's with `load_types`."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9]*(?:[.-][a-z0-9]+)*$", max_length=64)
    version: int = Field(ge=1, le=65535)
    labels: Texts
    file: Literal["required", "optional"]
    bare_digest: bool = Field(default=False, alias="bareDigest")
    posted: bool = False
    facts: tuple[FactSpec, ...] = Field(max_length=32)
    private_facts: tuple[FactSpec, ...] = Field(alias="privateFacts", max_length=32)
    validity_end: str | None = Field(alias="validityEnd")
    notice: Texts | None

    @model_validator(mode="after")
    def _consistent(self) -> DocumentType:
        for group in (self.facts, self.private_facts):
            names = [f.name for f in group]
            if len(set(names)) != len(names):
                raise ValueError("a fact name appears twice")
        if self.validity_end is not None:
            spec = self.fact(self.validity_end)
            if spec is None or spec.kind != "date":
                raise ValueError(f"validityEnd {self.validity_end!r} is not a public date fact")
        if self.bare_digest and (self.facts or self.private_facts or self.file != "required"):
            raise ValueError("a bareDigest type has no facts and requires the file digest")
        return self

    @property
    def key(self) -> str:
        """``id.vVERSION``, as the file is named (``lu.building-permit.v1``)."""
        return f"{self.id}.v{self.version}"

    def fact(self, name: str) -> FactSpec | None:
        """The public fact called ``name``, or None."""
        return next((f for f in self.facts if f.name == name), None)

    # Named validate_facts, not validate: pydantic's BaseModel already has a (deprecated)
    # class method of that name.
    def validate_facts(
        self,
        facts: Mapping[str, object] | None,
        private: Mapping[str, object] | None = None,
        *,
        file_given: bool = True,
        loc: tuple[str | int, ...] = ("body",),
    ) -> ValidFacts:
        """Check one document's facts against this type; return them NFC-normalised.

        ``file_given`` says whether the submission carries the file's digest (refused when
        missing for a type that requires it). Raises `InvalidInputError` with the field's
        location under ``loc`` (``("body", "facts", "reference")``) and one sentence.
        """
        if self.file == "required" and not file_given:
            raise InvalidInputError(
                f"a document of type {self.id} needs the SHA-256 digest of its file",
                (*loc, "digest"),
            )
        public = _check_group(self, self.facts, facts, (*loc, "facts"), "fact")
        hidden = _check_group(self, self.private_facts, private, (*loc, "private"), "private fact")
        return ValidFacts(public, hidden)

    def ordered(self, facts: Mapping[str, str]) -> list[tuple[FactSpec, str | None]]:
        """The public facts in the type's order, each with its value or None when absent."""
        return [(spec, facts.get(spec.name)) for spec in self.facts]


@dataclass(frozen=True)
class ValidFacts:
    """The public and private facts of one document, validated and NFC-normalised."""

    public: dict[str, str]
    private: dict[str, str]


class TypeRegistry(Mapping[tuple[str, int], DocumentType]):
    """The known types, by ``(id, version)``; `get_type` refuses an unknown one in a sentence."""

    def __init__(self, types: Mapping[tuple[str, int], DocumentType]) -> None:
        self._types = dict(types)

    def __getitem__(self, key: tuple[str, int]) -> DocumentType:
        return self._types[key]

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def latest(self, type_id: str) -> DocumentType | None:
        """The highest version of ``type_id``, or None."""
        versions = [v for (i, v) in self._types if i == type_id]
        return self._types[(type_id, max(versions))] if versions else None

    def get_type(
        self, type_id: object, version: int | None = None, *, loc: tuple[str | int, ...] = ()
    ) -> DocumentType:
        """The type ``type_id`` (its latest version unless ``version``), or InvalidInputError."""
        if not isinstance(type_id, str):
            raise InvalidInputError("the document type must be a string", loc)
        found = self.latest(type_id) if version is None else self._types.get((type_id, version))
        if found is None:
            known = ", ".join(sorted({i for i, _ in self._types}))
            what = type_id if version is None else f"{type_id} version {version}"
            raise InvalidInputError(
                f"unknown document type {what!r}; the known types are {known}", loc
            )
        return found


@functools.cache
def builtin_types() -> TypeRegistry:
    """The types shipped with the package, loaded once."""
    return load_types()


def load_types(extra_dir: Path | str | None = None) -> TypeRegistry:
    """Load the shipped types and those of ``extra_dir`` (``ANCHOR_DOCTYPES_DIR``), if given.

    Every ``*.json`` file of the folders except ``doctype.schema.json`` is a type, named
    ``<id>.v<version>.json`` after its contents. Raises `InvalidInputError` naming the file
    when one is malformed, misnamed, or defines a type already defined.
    """
    folders = [BUILTIN_DIR] + ([Path(extra_dir)] if extra_dir is not None else [])
    types: dict[tuple[str, int], DocumentType] = {}
    for folder in folders:
        if not folder.is_dir():
            raise InvalidInputError(f"the document type folder {folder} does not exist")
        for path in sorted(folder.glob("*.json")):
            if path.name == "doctype.schema.json":
                continue
            doctype = load_type_file(path)
            if (doctype.id, doctype.version) in types:
                raise InvalidInputError(f"{path}: the type {doctype.key} is defined twice")
            types[(doctype.id, doctype.version)] = doctype
    return TypeRegistry(types)


def load_type_file(path: Path) -> DocumentType:
    """Load and check one type file; raise `InvalidInputError` naming the file and the field."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidInputError(f"{path}: not a readable JSON file: {e}") from e
    if isinstance(data, dict):
        data.pop("$schema", None)  # the editor's pointer to doctype.schema.json
    try:
        doctype = DocumentType.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "type"
        raise InvalidInputError(
            f"{path}: {where}: {first['msg'].removeprefix('Value error, ')}"
        ) from e
    match = _FILE_NAME.fullmatch(path.name)
    if match is None or (match["id"], int(match["version"])) != (doctype.id, doctype.version):
        raise InvalidInputError(f"{path}: a type file is named {doctype.key}.json")
    return doctype


def normalise_text(value: str) -> str:
    """Unicode NFC, the form every fact is committed in."""
    return unicodedata.normalize("NFC", value)


def _check_group(
    doctype: DocumentType,
    specs: tuple[FactSpec, ...],
    values: Mapping[str, object] | None,
    loc: tuple[str | int, ...],
    what: str,
) -> dict[str, str]:
    values = {} if values is None else values
    if not isinstance(values, Mapping):
        raise InvalidInputError(f"the {what}s must be an object of names and strings", loc)
    known = {s.name: s for s in specs}
    for name in values:
        if name not in known:
            allowed = ", ".join(known) or "none"
            raise InvalidInputError(
                f"the {what} {name!r} is not one of type {doctype.id}: its {what}s are {allowed}",
                (*loc, str(name)),
            )
    out: dict[str, str] = {}
    for spec in specs:
        value = values.get(spec.name)
        if value is None:
            if spec.required:
                raise InvalidInputError(
                    f"the {what} {spec.name} is required for type {doctype.id}",
                    (*loc, spec.name),
                )
            continue
        out[spec.name] = check_value(spec, value, (*loc, spec.name), what)
    return out


def check_value(spec: FactSpec, value: object, loc: tuple[str | int, ...], what: str) -> str:
    """One fact value, NFC-normalised, or `InvalidInputError` in a sentence."""
    name = f"the {what} {spec.name}"
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string", loc)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise InvalidInputError(f"{name} is not valid Unicode (a lone surrogate)", loc)
    value = normalise_text(value)
    if spec.kind == "date":
        if not _DATE.fullmatch(value):
            raise InvalidInputError(f"{name} must be a date written YYYY-MM-DD", loc)
        try:
            dt.date.fromisoformat(value)
        except ValueError as e:
            raise InvalidInputError(f"{name} is not a date of the calendar: {value}", loc) from e
        return value
    if not value:
        raise InvalidInputError(f"{name} is empty; leave it out instead", loc)
    if spec.max_length is not None and len(value) > spec.max_length:
        raise InvalidInputError(
            f"{name} is {len(value)} characters long; at most {spec.max_length}", loc
        )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise InvalidInputError(
            f"{name} contains a control or invisible formatting character (a line break, a "
            "tab...); a fact is one line of visible text",
            loc,
        )
    if value != value.strip():
        raise InvalidInputError(f"{name} starts or ends with a space", loc)
    return value
