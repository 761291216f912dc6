"""Document types: the shipped files, their JSON Schema, the loader and the validation of facts."""

from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from anchor.errors import InvalidInputError
from anchor.proof.doctypes import BUILTIN_DIR, builtin_types, load_type_file, load_types
from anchor.settings import load_settings

SCHEMA = json.loads((BUILTIN_DIR / "doctype.schema.json").read_text())
PERMIT = {
    "reference": "2026/0042",
    "decisionDate": "2026-03-12",
    "works": "Construction d'une maison unifamiliale avec garage",
    "address": "6, rue de l'Étang, L-5326 Contern",
    "parcel": "Contern, section A, n° 123/4567",
    "validUntil": "2027-03-12",
}


def type_files() -> list[Path]:
    return sorted(p for p in BUILTIN_DIR.glob("*.json") if p.name != "doctype.schema.json")


def test_the_shipped_types() -> None:
    types = builtin_types()
    assert set(types) == {
        ("document", 1),
        ("lu.building-permit", 1),
        ("lu.residence-certificate", 1),
    }
    permit = types.get_type("lu.building-permit")
    assert [f.name for f in permit.facts] == list(PERMIT)
    assert permit.validity_end == "validUntil"
    assert permit.notice is not None
    assert "consultés" in permit.notice.fr and "eingesehen" in permit.notice.de
    assert "inspected" in permit.notice.en and "appeal" in permit.notice.en
    generic = types.get_type("document")
    assert generic.bare_digest and generic.file == "required" and not generic.facts


@pytest.mark.parametrize("path", type_files(), ids=lambda p: p.name)
def test_every_shipped_type_meets_the_json_schema(path: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(json.loads(path.read_text()), SCHEMA)
    for fact in load_type_file(path).facts:
        assert set(fact.labels.model_dump(exclude_none=True)) >= {"fr", "de", "en"}


def permit_file() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BUILTIN_DIR / "lu.building-permit.v1.json").read_text())
    return data


def _bad_type(change: dict[str, Any]) -> dict[str, Any]:
    data = permit_file()
    data.update(change)
    return data


# What JSON Schema cannot say (a name that must be one of the facts, a date fact): only the
# loader refuses those.
CROSS_FIELD = [
    ({"validityEnd": "works"}, "validityEnd"),
    ({"validityEnd": "nothing"}, "validityEnd"),
    ({"facts": [permit_file()["facts"][0]] * 2, "validityEnd": None}, "twice"),
    ({"bareDigest": True}, "bareDigest"),
]
BAD_TYPES = [
    ({"colour": "red"}, "colour"),
    ({"file": "maybe"}, "file"),
    ({"facts": [{**permit_file()["facts"][0], "maxLength": None}]}, "maxLength"),
    ({"facts": [{**permit_file()["facts"][1], "maxLength": 10}], "validityEnd": None}, "maxLength"),
    ({"facts": [{**permit_file()["facts"][0], "name": "Reference"}]}, "name"),
    ({"facts": [{**permit_file()["facts"][0], "kind": "number"}]}, "kind"),
    ({"labels": {"fr": "Permis", "de": "Genehmigung"}}, "labels.en"),
]


@pytest.mark.parametrize(("change", "where"), BAD_TYPES)
def test_the_loader_and_the_schema_refuse_the_same_bad_types(
    tmp_path: Path, change: dict[str, Any], where: str
) -> None:
    data = _bad_type(change)
    data["facts"] = [{k: v for k, v in f.items() if v is not None} for f in data["facts"]]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)
    path = tmp_path / "lu.building-permit.v1.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidInputError, match=str(path)):
        load_type_file(path)


@pytest.mark.parametrize(("change", "message"), CROSS_FIELD)
def test_the_loader_refuses_inconsistent_types(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    data = _bad_type(change)
    jsonschema.validate(data, SCHEMA)
    path = tmp_path / "lu.building-permit.v1.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidInputError, match=message):
        load_type_file(path)


def test_an_operator_adds_a_type_by_dropping_a_file(tmp_path: Path) -> None:
    data = permit_file()
    data.update(id="lu.commune-contern.dog-licence", version=3, validityEnd=None, notice=None)
    data["facts"] = data["facts"][:1]
    (tmp_path / "lu.commune-contern.dog-licence.v3.json").write_text(json.dumps(data))
    settings = load_settings(doctypes_dir=tmp_path)
    types = load_types(settings.doctypes_dir)
    licence = types.get_type("lu.commune-contern.dog-licence")
    assert licence.version == 3 and types.latest("lu.building-permit") is not None
    assert licence.validate_facts({"reference": "7"}).public == {"reference": "7"}


def test_misnamed_and_duplicated_type_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "lu.building-permit.v2.json").write_text(json.dumps(permit_file()))
    with pytest.raises(InvalidInputError, match=r"named lu\.building-permit\.v1\.json"):
        load_types(tmp_path)
    (tmp_path / "lu.building-permit.v2.json").unlink()
    shutil.copy(BUILTIN_DIR / "lu.building-permit.v1.json", tmp_path)
    with pytest.raises(InvalidInputError, match="defined twice"):
        load_types(tmp_path)
    with pytest.raises(InvalidInputError, match="does not exist"):
        load_types(tmp_path / "missing")
    (tmp_path / "lu.building-permit.v1.json").write_text("{")
    with pytest.raises(InvalidInputError, match="not a readable JSON file"):
        load_types(tmp_path)


def test_good_facts_come_back_nfc() -> None:
    permit = builtin_types().get_type("lu.building-permit")
    nfd = {**PERMIT, "address": unicodedata.normalize("NFD", PERMIT["address"])}
    valid = permit.validate_facts(nfd, {"holder": "Marie Schmit"})
    assert valid.public == PERMIT
    assert valid.private == {"holder": "Marie Schmit"}
    without = {k: v for k, v in PERMIT.items() if k != "validUntil"}
    assert permit.validate_facts(without).public == without


BAD_FACTS: list[tuple[dict[str, Any], dict[str, Any] | None, tuple[str, ...], str]] = [
    ({**PERMIT, "colour": "red"}, None, ("body", "facts", "colour"), "'colour' is not one of"),
    ({k: v for k, v in PERMIT.items() if k != "reference"}, None,
     ("body", "facts", "reference"), "reference is required"),
    ({**PERMIT, "decisionDate": "12/03/2026"}, None, ("body", "facts", "decisionDate"),
     "YYYY-MM-DD"),
    ({**PERMIT, "decisionDate": "2026-02-30"}, None, ("body", "facts", "decisionDate"),
     "not a date of the calendar"),
    ({**PERMIT, "decisionDate": "2026-W11-4"}, None, ("body", "facts", "decisionDate"),
     "YYYY-MM-DD"),
    ({**PERMIT, "reference": "x" * 65}, None, ("body", "facts", "reference"),
     "65 characters long; at most 64"),
    ({**PERMIT, "reference": 42}, None, ("body", "facts", "reference"), "must be a string"),
    ({**PERMIT, "works": ""}, None, ("body", "facts", "works"), "is empty"),
    ({**PERMIT, "works": "line\nbreak"}, None, ("body", "facts", "works"), "control"),
    ({**PERMIT, "works": "zero\u200bwidth"}, None, ("body", "facts", "works"), "invisible"),
    ({**PERMIT, "reference": " 2026/0042"}, None, ("body", "facts", "reference"), "space"),
    ({**PERMIT, "reference": "\ud800"}, None, ("body", "facts", "reference"), "surrogate"),
    (PERMIT, {"name": "x"}, ("body", "private", "name"), "private fact 'name' is not one of"),
    (PERMIT, {"holder": "x" * 201}, ("body", "private", "holder"), "at most 200"),
]  # fmt: skip


@pytest.mark.parametrize(("facts", "private", "loc", "message"), BAD_FACTS)
def test_bad_facts_name_the_field(
    facts: dict[str, Any], private: dict[str, Any] | None, loc: tuple[str, ...], message: str
) -> None:
    permit = builtin_types().get_type("lu.building-permit")
    with pytest.raises(InvalidInputError, match=message) as info:
        permit.validate_facts(facts, private)
    assert info.value.loc == loc
    assert str(info.value).startswith("the ")


def test_unknown_types_and_missing_files_are_refused() -> None:
    types = builtin_types()
    with pytest.raises(InvalidInputError, match=r"unknown document type 'lu\.dog'") as info:
        types.get_type("lu.dog", loc=("body", "type"))
    assert info.value.loc == ("body", "type")
    with pytest.raises(InvalidInputError, match="version 9"):
        types.get_type("lu.building-permit", 9)
    with pytest.raises(InvalidInputError, match="needs the SHA-256") as info:
        types.get_type("document").validate_facts({}, file_given=False)
    assert info.value.loc == ("body", "digest")
    residence = types.get_type("lu.residence-certificate")
    with pytest.raises(InvalidInputError, match="private fact surname is required"):
        residence.validate_facts({"reference": "R1", "issueDate": "2026-04-02"}, {})
