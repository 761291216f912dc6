"""``anchor verify``: check a document and its proof against the registry, for anyone.

The root CLI registers `verify_command` as ``app.command("verify")(verify_command)``. Output is a
few plain sentences for a citizen, or JSON with ``--json``; the exit status says the verdict.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated

import typer

from anchor.cli.output import EXIT_INDETERMINATE, EXIT_INVALID, EXIT_USAGE, EXIT_VALID, sentence
from anchor.errors import ConfigError, InvalidInputError, ProofError
from anchor.proof.bundle import ProofBundle, ProofBundleV2, parse_bundle
from anchor.proof.compact import from_text, parse_verification_url
from anchor.proof.doctypes import builtin_types
from anchor.trust import TrustedRegistry, parse_trusted_registries
from anchor.verify import LANGUAGES, Check, Outcome, Verdict, format_time, verify_bundle

#: Exit statuses; documented in the command's help and in docs/proof-format.md.

_EXIT = {
    Outcome.VALID: EXIT_VALID,
    Outcome.INVALID: EXIT_INVALID,
    Outcome.INDETERMINATE: EXIT_INDETERMINATE,
}
_COMPACT = re.compile(r"v\d+\.")

#: The registry's body kinds as the page names them (api/static/verify/i18n.js, "kind.*").
KIND_LABELS = {
    "fr": {"commune": "Commune", "syndicate": "Syndicat", "social_office": "Office social",
           "childcare": "Crèche / Maison relais", "state_body": "Administration de l'État",
           "other": "Autre"},
    "de": {"commune": "Gemeinde", "syndicate": "Syndikat", "social_office": "Sozialamt",
           "childcare": "Kinderkrippe / Maison relais", "state_body": "Staatliche Verwaltung",
           "other": "Sonstige"},
    "en": {"commune": "Municipality", "syndicate": "Syndicate", "social_office": "Social office",
           "childcare": "Childcare centre", "state_body": "State administration",
           "other": "Other"},
}  # fmt: skip


class _UsageError(Exception):
    """The command line or an input file is unusable; no verdict can be given."""


def verify_command(
    file: Annotated[
        Path | None,
        typer.Argument(help="The document to check (any file: PDF, image...).", show_default=False),
    ] = None,
    proof: Annotated[
        str | None,
        typer.Option(
            "--proof",
            "-p",
            help="The proof: a bundle JSON file, a compact proof (v1.…) or a verification URL.",
            show_default=False,
        ),
    ] = None,
    digest: Annotated[
        str | None,
        typer.Option(help="SHA-256 of the document (64 hex digits), instead of the file."),
    ] = None,
    rpc: Annotated[
        list[str] | None,
        typer.Option(
            "--rpc",
            help="JSON-RPC URL of a node of the chain; repeat to give fallbacks, tried in turn. "
            "Default: ANCHOR_RPC_URLS (comma separated).",
            show_default=False,
        ),
    ] = None,
    registry: Annotated[
        list[str] | None,
        typer.Option(
            "--registry",
            help="The registry you trust, known out of band (never the one a proof names): "
            "ADDRESS[@CHAIN_ID][:FROM..TO]; repeat for a registry and its successor. Default: "
            "ANCHOR_REGISTRY_ADDRESS (on ANCHOR_CHAIN_ID when set) and ANCHOR_TRUSTED_REGISTRIES.",
            show_default=False,
        ),
    ] = None,
    poa: Annotated[
        bool,
        typer.Option(
            "--poa",
            help="The chain is proof-of-authority (Besu QBFT, Clique). Default: ANCHOR_POA.",
        ),
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each node call.")] = 10.0,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the verdict and every check as JSON.")
    ] = False,
    lang: Annotated[
        str,
        typer.Option(
            "--lang",
            help="Language of the body's name and kind: fr, de or en (French when the body "
            "has no name in that language).",
        ),
    ] = "fr",
) -> None:
    """Check that a document is authentic, unaltered, issued by an authorised body, not revoked.

    Example: anchor verify permit.pdf --proof permit.proof.json --rpc https://rpc.example.lu
    --registry 0x8724…65fb@24601 (the registry's address, known from its operator, never from
    the proof).

    Exit status 0: valid. 1: invalid, do not rely on the document.

    Exit status 2: indeterminate, no node of the chain could be read (not a sign of forgery).

    Exit status 64: unusable input (missing file, malformed proof or digest, no RPC URL, no
    trusted registry).

    A malformed command line is refused by the option parser, with status 2 and a usage message.
    """
    try:
        if lang not in LANGUAGES:
            raise _UsageError(f"--lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
        bundle = load_proof(proof)
        if file is not None and not file.is_file():
            raise _UsageError(f"cannot read the document {file}: no such file")
        urls = rpc_urls(rpc)
        trusted = trusted_registries(registry)
        verdict = verify_bundle(
            bundle,
            trusted=trusted,
            document=file,
            digest=digest,
            rpc_urls=urls,
            timeout=timeout,
            poa=poa or _env_flag("ANCHOR_POA"),
        )
    except (_UsageError, ProofError, ConfigError) as e:
        _report_usage(str(e), json_output)
        raise typer.Exit(EXIT_USAGE) from e
    except OSError as e:
        _report_usage(f"cannot read the document {file}: {e.strerror or e}", json_output)
        raise typer.Exit(EXIT_USAGE) from e
    if json_output:
        typer.echo(json.dumps(verdict.to_dict(lang), indent=2, ensure_ascii=False))
    else:
        typer.echo(describe(verdict, lang, bundle))
    raise typer.Exit(_EXIT[verdict.outcome])


def load_proof(proof: str | None) -> ProofBundle:
    """Read the proof from a verification URL, a compact text, or a file holding either or JSON."""
    if not proof:
        raise _UsageError(
            "give the proof with --proof: a bundle file, a compact proof or a verification URL"
        )
    text = proof.strip()
    if not (text.startswith(("http://", "https://")) or _COMPACT.match(text)):
        path = Path(proof)
        try:
            text = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError as e:
            raise _UsageError(f"cannot read the proof {proof}: no such file") from e
        except (OSError, UnicodeDecodeError) as e:
            raise _UsageError(f"cannot read the proof {proof}: {e}") from e
    if text.startswith("{"):
        return parse_bundle(text)
    if text.startswith(("http://", "https://")):
        return parse_verification_url(text)
    return from_text(text)


def rpc_urls(given: list[str] | None) -> list[str]:
    """The RPC URLs from ``--rpc``, else from ``ANCHOR_RPC_URLS``; refuse none at all."""
    urls = [u.strip() for u in given or [] if u.strip()]
    if not urls:
        urls = [u.strip() for u in os.environ.get("ANCHOR_RPC_URLS", "").split(",") if u.strip()]
    if not urls:
        raise _UsageError("give a node of the chain with --rpc URL, or set ANCHOR_RPC_URLS")
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise _UsageError(f"the RPC URL {url!r} must start with http:// or https://")
    return urls


def trusted_registries(given: list[str] | None) -> list[TrustedRegistry]:
    """The registries from ``--registry``, else from the environment; refuse none at all."""
    specs = [s for s in given or [] if s.strip()]
    if not specs:
        address = os.environ.get("ANCHOR_REGISTRY_ADDRESS", "").strip()
        chain = os.environ.get("ANCHOR_CHAIN_ID", "").strip()
        if address:
            specs.append(f"{address}@{chain}" if chain else address)
        specs.append(os.environ.get("ANCHOR_TRUSTED_REGISTRIES", ""))
    try:
        trusted = parse_trusted_registries(specs)
    except ConfigError as e:
        raise _UsageError(str(e)) from e
    if not trusted:
        raise _UsageError(
            "give the registry you trust with --registry ADDRESS or set "
            "ANCHOR_REGISTRY_ADDRESS, since a proof can never vouch for its own registry"
        )
    return trusted


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def describe(verdict: Verdict, lang: str = "fr", bundle: ProofBundle | None = None) -> str:
    """Plain sentences for a citizen: the verdict first, the issuing body as the registry names
    it (in ``lang``), the certified facts of a typed document (to compare with the paper), then
    one line per failed check."""
    statement = verdict.check("statement")
    certified = bundle if statement is not None and statement.ok else None  # never forged facts
    lines = [_headline(verdict, lang), *_body_lines(verdict, lang), *_fact_lines(certified, lang)]
    if verdict.outcome is Outcome.INVALID:
        lines += [
            f"  - {sentence(c.reason)}" for c in verdict.checks if c.required and c.ok is False
        ]
    elif verdict.outcome is Outcome.INDETERMINATE:
        lines += [
            f"  - {sentence(c.reason)} ({c.actual})" if c.actual else f"  - {sentence(c.reason)}"
            for c in verdict.checks
            if c.required and c.ok is None
        ]
    lines += [
        f"  note: {sentence(c.reason)}" for c in verdict.checks if not c.required and c.ok is False
    ]
    return "\n".join(lines)


def _headline(verdict: Verdict, lang: str) -> str:
    if verdict.outcome is Outcome.INDETERMINATE:
        return (
            "INDETERMINATE — the registry could not be read, so the document could not be "
            "checked. This is not a sign of forgery; try again later or with another node."
        )
    if verdict.outcome is Outcome.INVALID:
        return "INVALID — do not rely on this document."
    issuer = verdict.issuer_name(lang) or verdict.issuer or "an unnamed issuer"
    when = f" on {format_time(verdict.anchored_at)}" if verdict.anchored_at else ""
    document = _document_check(verdict)
    if document is None or document.ok is None:
        matched = "no document was given, so only the proof was checked"
    else:
        matched = "the document matches"
    life = verdict.life
    until = f"; valid until {life.valid_until}" if life is not None and life.valid_until else ""
    return f"VALID — issued by {issuer}{when}; {matched}; not revoked{until}."


def _body_lines(verdict: Verdict, lang: str) -> list[str]:
    """The body (name at anchoring, today's if renamed, kind, code, id), its status, the key."""
    body = verdict.body
    if body is None:
        return []
    kind = KIND_LABELS[lang].get(body.kind, body.kind)
    code = f", code {body.code}" if body.code else ""
    lines = [f"  body: {body.name(lang)} ({kind}{code}, body {body.body_id}), {body.status} today"]
    if (today := body.renamed(lang)) is not None:
        lines.append(f"  renamed since: today {today}")
    if body.status != "active" and verdict.authorised:
        lines.append(
            f"  the body is {body.status} today; documents it anchored while active stay valid"
        )
    if verdict.authorised is not None:
        said = "was" if verdict.authorised else "was NOT"
        lines.append(f"  key: {verdict.issuer}, {said} authorised to anchor for the body then")
    return lines


def _fact_lines(bundle: ProofBundle | None, lang: str) -> list[str]:
    """The certified facts of a typed document, labelled in ``lang`` when the type is known
    here, for a person to compare with the paper (the facts are what the proof certifies)."""
    if not isinstance(bundle, ProofBundleV2):
        return []
    try:
        doctype = builtin_types().get_type(bundle.type_id, bundle.type_version)
    except InvalidInputError:
        doctype = None
    title = getattr(doctype.labels, lang) if doctype is not None else bundle.type_id
    lines = [f"  certified facts ({title}; compare them with the document):"]
    for name, value in bundle.facts.items():
        spec = doctype.fact(name) if doctype is not None else None
        label = getattr(spec.labels, lang) if spec is not None else name
        lines.append(f"    {label}: {value}")
    return lines


def _document_check(verdict: Verdict) -> Check | None:
    return verdict.check("document") or verdict.check("digest")


def _report_usage(message: str, json_output: bool) -> None:
    if json_output:
        typer.echo(json.dumps({"verdict": None, "error": message}, ensure_ascii=False))
    else:
        typer.echo(f"error: {sentence(message)}", err=True)
