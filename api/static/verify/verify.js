// The citizen's verification page: decode the proof carried in the URL fragment (version 1
// `#v1.<base64url>`, version 2 `#v2.<digits>` of a typed document), recompute its leaf and root
// in the browser, ask the registry API about the root (with the key the proof names as issuer,
// never the leaf), and show one verdict with the certified facts to compare with the paper:
//
//   valid, validUntil, expired     the document is registered and in force (or its end passed)
//   suspended, revoked, superseded its status in the registry (with since, reason, successor)
//   invalid                        a definite reason says the document or its proof is not genuine
//   unavailable                    the check cannot be done now (API down, chain unreachable):
//                                  never "invalid"
//
// The issuing body (its name at anchoring time, kind, official code, today's name and status)
// comes from the registry's answer only; a name carried in a v1 proof is decoded and ignored.
// Labels and legal notices come from GET /v1/document-types (the whole list: the server is not
// told which type is checked). The fragment never reaches the server; a document file never
// leaves the device. Version 2 is decoded by statement.js (window.ANCHOR_STATEMENT), which also
// gives the byte reader, hashing and hex helpers used here for version 1. The Python reference
// is anchor/proof/compact.py, anchor/proof/compact2.py and anchor/merkle/.
"use strict";

(function () {
  const TEXTS = window.ANCHOR_I18N;
  const S = window.ANCHOR_STATEMENT;
  const LANGS = ["fr", "de", "en"];
  const DEFAULT_LANG = "fr";
  const STORAGE_KEY = "anchor.verify.lang";
  // Locales for dates: the issuers are in Luxembourg; "today" is Luxembourg's.
  const LOCALES = { fr: "fr-LU", de: "de-LU", en: "en-GB" };
  const ZONE = "Europe/Luxembourg";
  const API_TIMEOUT_MS = 15000;
  const ProofFormatError = S.ProofFormatError;
  const toHex = S.toHex;

  // ---------------------------------------------------------------------------------------------
  // Compact proof format v1 (docs/proof-format.md, anchor/proof/compact.py)
  // magic 0xA1 | flags | chainId varint | registry 20 | txHash 32 | blockNumber varint
  // | issuer 20 | anchoredAt varint | digest 32 | salt 32 | n (1 byte) | n x 32 proof
  // | [issuerName: varint length + UTF-8, when flags bit 0 is set]
  // ---------------------------------------------------------------------------------------------
  const MAGIC_V1 = 0xa1;
  const FLAG_ISSUER_NAME = 0x01;
  const MAX_PROOF_LENGTH = 32;
  const PREFIX_V1 = "v1.";

  /** Decode `v1.<base64url>` into a bundle, or throw ProofFormatError (as from_text in Python). */
  function fromTextV1(text) {
    text = text.trim();
    if (!text.startsWith(PREFIX_V1)) {
      const other = /^v(\d+)\./.exec(text);
      if (other) throw new ProofFormatError("unsupported version " + other[1], other[1]);
      throw new ProofFormatError("a compact proof starts with " + PREFIX_V1);
    }
    return decodeCompact(base64urlDecode(text.slice(PREFIX_V1.length)));
  }

  /** Strict base64url without padding: the canonical encoding only, as the Python decoder. */
  function base64urlDecode(body) {
    if (!/^[A-Za-z0-9_-]*$/.test(body) || body.length % 4 === 1) {
      throw new ProofFormatError("not valid base64url");
    }
    const b64 = body.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - (body.length % 4)) % 4);
    const binary = atob(b64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    if (base64urlEncode(bytes) !== body) {
      throw new ProofFormatError("not canonical base64url (stray bits at the end)");
    }
    return bytes;
  }

  function base64urlEncode(bytes) {
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  /** Decode the compact v1 bytes; the leaf and the root are recomputed, never read. */
  function decodeCompact(data) {
    const r = new S.Reader(data);
    const magic = r.byte("magic byte");
    if (magic !== MAGIC_V1) {
      if (magic >> 4 === 0xa) throw new ProofFormatError("unsupported version", String(magic & 0x0f));
      throw new ProofFormatError("not a compact proof");
    }
    const flags = r.byte("flags");
    if (flags & ~FLAG_ISSUER_NAME) throw new ProofFormatError("unknown flags");
    const bundle = { version: 1 };
    bundle.chainId = r.varint("chainId");
    bundle.registry = toHex(r.take(20, "registry"));
    bundle.txHash = toHex(r.take(32, "txHash"));
    bundle.blockNumber = r.varint("blockNumber");
    bundle.issuer = toHex(r.take(20, "issuer"));
    bundle.anchoredAt = r.varint("anchoredAt");
    const digest = r.take(32, "digest");
    const salt = r.take(32, "salt");
    const count = r.byte("proof length");
    if (count > MAX_PROOF_LENGTH) throw new ProofFormatError("proof longer than " + MAX_PROOF_LENGTH);
    const proof = [];
    for (let i = 0; i < count; i++) proof.push(r.take(32, "proof[" + i + "]"));
    // A name in the proof is decoded (the format allows it) but never shown: the page shows the
    // name the registry holds.
    bundle.issuerName = null;
    if (flags & FLAG_ISSUER_NAME) {
      const raw = r.take(r.length("issuerName length"), "issuerName");
      try {
        bundle.issuerName = new TextDecoder("utf-8", { fatal: true }).decode(raw);
      } catch (e) {
        throw new ProofFormatError("issuerName is not valid UTF-8");
      }
    }
    r.finish();
    // The bundle model refuses a zero chain id or anchoring time (anchor/proof/bundle.py).
    if (bundle.chainId === 0n || bundle.anchoredAt === 0n) {
      throw new ProofFormatError("chainId and anchoredAt must be positive");
    }
    const leaf = S.leafBytes(salt, digest);
    bundle.digest = toHex(digest);
    bundle.salt = toHex(salt);
    bundle.leaf = toHex(leaf);
    bundle.proof = proof.map(toHex);
    bundle.root = toHex(S.foldProof(leaf, proof));
    return bundle;
  }

  /** The v1 leaf and fold, as hex (for tests and auditors). */
  const leafHash = (salt, digest) => S.leafBytes(salt, digest);
  const foldProof = (leaf, proof) => S.foldProof(leaf, proof);

  // ---------------------------------------------------------------------------------------------
  // Document types: GET /v1/document-types, the whole list (never one type).
  // Resolves to {"id.vN": type} or throws {unavailable: key}.
  // ---------------------------------------------------------------------------------------------
  let typesPromise = null;

  async function fetchJson(url) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), API_TIMEOUT_MS);
    try {
      return await fetch(url, {
        cache: "no-store",
        headers: { Accept: "application/json" },
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async function loadTypes() {
    let response;
    try {
      response = await fetchJson("/v1/document-types");
    } catch (e) {
      throw { unavailable: "unavailable.network" };
    }
    if (response.status !== 200) throw { unavailable: "unavailable.types" };
    const body = await response.json().catch(() => null);
    if (!body || !Array.isArray(body.types)) throw { unavailable: "reason.unexpectedAnswer" };
    const types = {};
    for (const type of body.types) {
      if (!type || typeof type.id !== "string" || !Number.isSafeInteger(type.version)) continue;
      const facts = Array.isArray(type.facts) ? type.facts : type.publicFacts;
      if (!Array.isArray(facts)) continue;
      types[type.id + ".v" + type.version] = Object.assign({}, type, { facts: facts });
    }
    return types;
  }

  function types() {
    if (!typesPromise) {
      typesPromise = loadTypes().catch((e) => {
        typesPromise = null; // a retry asks again
        throw e;
      });
    }
    return typesPromise;
  }

  // ---------------------------------------------------------------------------------------------
  // Registry lookup: GET /v1/roots/{root}?key={issuer}. The leaf is never sent: the server
  // learns which batch (root) is checked, not which of its documents.
  // Returns {kind: "answer", data} | {kind: "notAnchored"} | {kind: "unavailable", reason}.
  // Anything but 200 and 404 (503, 500, a network failure, a timeout) is "unavailable".
  // ---------------------------------------------------------------------------------------------
  async function lookUpRoot(bundle) {
    const url = "/v1/roots/" + bundle.root + "?key=" + bundle.issuer;
    let response;
    try {
      response = await fetchJson(url);
    } catch (e) {
      return { kind: "unavailable", reason: "unavailable.network" };
    }
    if (response.status === 404) {
      // Only the API's own answer proves the root unknown (it names the root). A bare 404 from a
      // proxy or a wrong path (the page deployed without the API) says nothing of the document.
      const body = await response.json().catch(() => null);
      const detail = body && typeof body.detail === "string" ? body.detail.toLowerCase() : "";
      if ((body && body.anchored === false) || detail.includes(bundle.root)) {
        return { kind: "notAnchored" };
      }
      return { kind: "unavailable", reason: "reason.unexpectedAnswer" };
    }
    if (response.status === 503) return { kind: "unavailable", reason: "unavailable.chain" };
    if (response.status === 429) return { kind: "unavailable", reason: "unavailable.busy" };
    if (response.status !== 200) return { kind: "unavailable", reason: "reason.unexpectedAnswer" };
    try {
      return { kind: "answer", data: await response.json() };
    } catch (e) {
      return { kind: "unavailable", reason: "reason.unexpectedAnswer" };
    }
  }

  const BODY_KINDS = ["commune", "syndicate", "social_office", "childcare", "state_body", "other"];
  const LANG_NAMES = ["fr", "de", "en", "lb"];

  function isNames(n) {
    return n && typeof n === "object" && LANG_NAMES.every((l) => typeof n[l] === "string") && n.fr !== "";
  }

  function isBody(b) {
    return b && typeof b === "object" && Number.isSafeInteger(b.id) && typeof b.kind === "string" &&
      typeof b.code === "string" && typeof b.status === "string" &&
      isNames(b.namesAtAnchor) && isNames(b.namesNow);
  }

  function isChange(c) {
    return c === null || c === undefined ||
      (Number.isSafeInteger(c.at) && Number.isSafeInteger(c.reason) && typeof c.annulled === "boolean");
  }

  const STATES = ["active", "suspended", "revoked", "superseded"];

  function isDocument(d) {
    return d && typeof d === "object" && typeof d.leaf === "string" && STATES.includes(d.state) &&
      Number.isSafeInteger(d.reason) && Array.isArray(d.history) &&
      d.history.every((c) => c && typeof c.kind === "string" && isChange(c)) &&
      (d.validUntil === null || d.validUntil === undefined || isDay(d.validUntil));
  }

  function isDay(text) {
    return typeof text === "string" && /^\d{4}-\d{2}-\d{2}$/.test(text);
  }

  /** A revocation counts unless the registrar annulled it (made by a compromised key). */
  function counts(change) {
    return Boolean(change) && change.kind === "revoked" && change.annulled !== true;
  }

  /** Same integer? API numbers are JSON numbers, proof numbers are BigInts. */
  function sameInt(apiValue, bigValue) {
    return Number.isSafeInteger(apiValue) && BigInt(apiValue) === bigValue;
  }

  /** Today's date in Luxembourg, `YYYY-MM-DD` (the day a validity end is compared with). */
  function today() {
    return new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date());
  }

  /** The last valid day: the last extension's, else the type's validity-end fact, else null. */
  function validityEnd(bundle, own) {
    if (own && isDay(own.validUntil)) return own.validUntil;
    const fact = bundle.doctype && bundle.doctype.validityEnd;
    return fact && isDay(bundle.facts[fact]) ? bundle.facts[fact] : null;
  }

  /**
   * Judge the registry's answer against the bundle. Returns
   * {status, reasons: [{key, params, change}], data, own, until}, status one of
   * valid | validUntil | expired | suspended | revoked | superseded | invalid | unavailable.
   */
  function judge(bundle, result) {
    if (result.kind === "notAnchored") {
      // For a typed document the root is computed from the facts: a root nobody anchored means
      // the facts (or the proof) are not those registered.
      const key = bundle.version === 2 ? "reason.factsChanged" : "reason.notAnchored";
      return { status: "invalid", reasons: [{ key: key }] };
    }
    if (result.kind === "unavailable") {
      return { status: "unavailable", reasons: [{ key: result.reason }] };
    }
    const d = result.data;
    const wellFormed =
      d && typeof d === "object" && typeof d.root === "string" && typeof d.key === "string" &&
      typeof d.registry === "string" && Number.isSafeInteger(d.anchoredAt) &&
      Number.isSafeInteger(d.chainId) && typeof d.authorised === "boolean" && isBody(d.body) &&
      isChange(d.rootStatus) && Array.isArray(d.documents) && d.documents.every(isDocument);
    if (!wellFormed || d.root.toLowerCase() !== bundle.root) {
      return { status: "unavailable", reasons: [{ key: "reason.unexpectedAnswer" }] };
    }
    if (!sameInt(d.chainId, bundle.chainId) || d.registry.toLowerCase() !== bundle.registry) {
      // A verifier trusts the registry it knows (this site's), never the one a proof names.
      return { status: "invalid", reasons: [{ key: "reason.otherRegistry" }] };
    }
    if (d.anchored !== true) {
      return { status: "invalid", reasons: [{ key: "reason.notAnchored" }], data: d };
    }
    const reasons = [];
    if (d.key.toLowerCase() !== bundle.issuer) reasons.push({ key: "reason.issuerMismatch" });
    if (!sameInt(d.anchoredAt, bundle.anchoredAt)) reasons.push({ key: "reason.timeMismatch" });
    if (d.authorised !== true) reasons.push({ key: "reason.notAuthorised" });
    if (reasons.length) return { status: "invalid", reasons: reasons, data: d };
    // The server lists the documents of the root with a history; the page finds its own leaf.
    const own = d.documents.find((c) => c.leaf.toLowerCase() === bundle.leaf) || null;
    const out = { reasons: [], data: d, own: own, until: validityEnd(bundle, own) };
    if (counts(d.rootStatus)) {
      out.reasons.push({ key: "reason.rootRevoked", change: d.rootStatus });
      return Object.assign(out, { status: "revoked" });
    }
    if (own && own.state === "revoked") {
      out.reasons.push({ key: "reason.documentRevoked", change: changeOf(own, "revoked") });
      return Object.assign(out, { status: "revoked" });
    }
    if (own && own.state === "superseded") {
      out.reasons.push({ key: "reason.superseded", successor: own.successor });
      return Object.assign(out, { status: "superseded" });
    }
    if (own && own.state === "suspended") {
      out.reasons.push({ key: "reason.suspended", change: changeOf(own, "suspended") });
      return Object.assign(out, { status: "suspended" });
    }
    if (out.until) return Object.assign(out, { status: out.until < today() ? "expired" : "validUntil" });
    return Object.assign(out, { status: "valid" });
  }

  /** The document's state as a change (kind, reason, at) for the texts. */
  function changeOf(own, kind) {
    return { kind: kind, reason: own.reason, at: own.since };
  }

  // ---------------------------------------------------------------------------------------------
  // Page state. render() rebuilds every text from it, so a language switch re-renders all.
  // ---------------------------------------------------------------------------------------------
  const state = {
    lang: DEFAULT_LANG,
    bundle: null, // the decoded proof
    proofError: null, // {key, params} when the fragment cannot be read
    chain: null, // judge() result; null while the lookup runs
    file: null, // {name, status: "reading" | "match" | "mismatch" | "error"}
    decoding: false, // a v2 proof waits for the document types
  };
  let lookupGeneration = 0; // ignores the answer of a superseded lookup (hash changed, retry)

  /** The text of `key` in the current language, {placeholders} filled from params. */
  function t(key, params) {
    const table = TEXTS[state.lang] || TEXTS[DEFAULT_LANG];
    const text = key in table ? table[key] : TEXTS[DEFAULT_LANG][key] || key;
    return text.replace(/\{(\w+)\}/g, (m, name) =>
      params && params[name] !== undefined ? String(params[name]) : m,
    );
  }

  function formatDate(unixSeconds) {
    const format = new Intl.DateTimeFormat(LOCALES[state.lang], {
      day: "numeric", month: "long", year: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short", timeZone: ZONE,
    });
    const when = new Date(Number(unixSeconds) * 1000);
    // A time beyond what Date holds (a forged proof can carry any uint64) shows as a number.
    return Number.isNaN(when.getTime()) ? String(unixSeconds) : format.format(when);
  }

  /** A calendar day (`YYYY-MM-DD`, a fact or a validity end) in words, with no time. */
  function formatDay(day) {
    if (!isDay(day)) return String(day);
    const format = new Intl.DateTimeFormat(LOCALES[state.lang], {
      day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
    });
    return format.format(new Date(day + "T00:00:00Z"));
  }

  /** A reason code in words: revocation or suspension table, "code N" for a site-specific one. */
  function reasonCodeText(kind, code) {
    const key = (kind === "suspended" ? "suspension." : "revocation.") + code;
    return key in TEXTS[DEFAULT_LANG] ? t(key) : t("revocation.other", { code: code });
  }

  function reasonText(reason) {
    if (reason.change) {
      return t(reason.key, {
        date: formatDate(reason.change.at),
        reason: reasonCodeText(reason.change.kind, reason.change.reason),
      });
    }
    if (reason.key === "reason.superseded") {
      const s = reason.successor;
      return s ? t("reason.supersededOn", { date: formatDate(s.anchoredAt) }) : t("reason.superseded");
    }
    return t(reason.key, reason.params);
  }

  /** The overall verdict from the proof, the registry's answer and the document check. */
  function verdict() {
    if (!state.bundle && !state.proofError) return { state: state.decoding ? "checking" : "none", reasons: [] };
    if (state.proofError) {
      const s = state.proofError.key.startsWith("unavailable.") ? "unavailable" : "invalid";
      return { state: s, reasons: [state.proofError], retry: s === "unavailable" };
    }
    const invalid = [];
    if (state.chain && state.chain.status === "invalid") invalid.push(...state.chain.reasons);
    if (state.file && state.file.status === "mismatch") {
      invalid.push({ key: "reason.documentMismatch", params: { file: state.file.name } });
    }
    // A definite reason wins over an outage: a wrong document stays wrong when the API is down.
    if (invalid.length) return { state: "invalid", reasons: invalid };
    if (!state.chain) return { state: "checking", reasons: [] };
    if (state.chain.status === "unavailable") {
      return { state: "unavailable", reasons: state.chain.reasons, retry: true };
    }
    return { state: state.chain.status, reasons: state.chain.reasons };
  }

  /** The states in which the registry knows the document: its facts are certified. */
  const REGISTERED = ["valid", "validUntil", "expired", "suspended", "revoked", "superseded"];

  const $ = (id) => document.getElementById(id);

  function render() {
    document.documentElement.lang = state.lang;
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const button of document.querySelectorAll("button[data-lang]")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
    }
    $("host-name").textContent = location.host;
    $("host").firstChild.textContent = t("host.before");
    $("host").lastChild.textContent = t("host.after");

    const v = verdict();
    const box = $("verdict");
    box.dataset.state = v.state;
    $("verdict-text").textContent = verdictWord(v);
    $("verdict-summary").textContent = summaryText(v);
    const list = $("verdict-reasons");
    list.replaceChildren(
      ...v.reasons.map((reason) => {
        const li = document.createElement("li");
        li.dataset.reason = reason.key;
        li.textContent = reasonText(reason);
        return li;
      }),
    );
    renderSuccessor(v);
    $("retry").hidden = !v.retry;
    document.title = verdictWord(v) + " — " + t("page.title");

    renderFacts(v);
    renderIssuer(v);
    renderHistory(v);
    $("document").hidden = !state.bundle || !fileDigest(state.bundle) || !window.crypto || !window.crypto.subtle;
    renderFile();
    renderDetails();
  }

  function verdictWord(v) {
    if (v.state === "validUntil") return t("verdict.validUntil", { date: formatDay(state.chain.until) });
    if (v.state === "expired") return t("verdict.expired", { date: formatDay(state.chain.until) });
    return t("verdict." + v.state);
  }

  /** A body's name in the page's language; French when it has none in that language. */
  function nameIn(names) {
    return names[state.lang] || names.fr;
  }

  function kindText(kind) {
    return BODY_KINDS.includes(kind) ? t("kind." + kind) : t("kind.other");
  }

  function summaryText(v) {
    if (REGISTERED.includes(v.state)) {
      const inForce = v.state === "valid" || v.state === "validUntil";
      const key = inForce && state.file && state.file.status === "match" ? "summary.validWithDoc" : "summary." + v.state;
      return t(key, { issuer: nameIn(state.chain.data.body.namesAtAnchor) });
    }
    if (v.state === "invalid") return t("summary.invalid");
    if (v.state === "unavailable") return t("summary.unavailable");
    if (v.state === "none") return t("summary.none");
    return t("summary.checking");
  }

  /** Superseded: a link to check the new document when the server gives its address. */
  function renderSuccessor(v) {
    const p = $("verdict-successor");
    p.replaceChildren();
    const own = v.state === "superseded" && state.chain.own;
    const url = own && own.successor && own.successor.url;
    // Only an address of this very page is followed (a successor is verified here, too).
    if (typeof url === "string" && url.startsWith(location.origin + "/verify#")) {
      const a = document.createElement("a");
      a.href = url;
      a.textContent = t("successor.link");
      p.append(a);
    }
    p.hidden = !p.childNodes.length;
  }

  /** Rows of [field, label, value] in a <dl>. */
  function fillList(list, rows) {
    list.replaceChildren();
    for (const [field, label, value] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.textContent = value;
      dd.dataset.field = field;
      if (/^0x[0-9a-f]+$/.test(value)) dd.className = "hex";
      list.append(dt, dd);
    }
  }

  /** The certified facts, in the type's order and the page's language, and the legal notice. */
  function renderFacts(v) {
    const b = state.bundle;
    const section = $("facts");
    const shown = b && b.version === 2 && REGISTERED.includes(v.state);
    section.hidden = !shown;
    $("notice-card").hidden = true;
    if (!shown) return;
    const type = b.doctype;
    $("facts-type").textContent = (type.labels && type.labels[state.lang]) || type.id;
    const rows = [];
    for (const spec of type.facts) {
      if (!(spec.name in b.facts)) continue;
      const value = b.facts[spec.name];
      const label = (spec.labels && spec.labels[state.lang]) || spec.name;
      rows.push([spec.name, label, spec.kind === "date" ? formatDay(value) : value]);
    }
    fillList($("facts-list"), rows);
    const notice = type.notice && (type.notice[state.lang] || type.notice.fr);
    $("notice").textContent = notice || "";
    $("notice-card").hidden = !notice;
  }

  /** The issuer from the registry's answer only: name then (and now), kind, code, status. */
  function renderIssuer(v) {
    const section = $("issuer");
    const data = state.chain && state.chain.data;
    const shown = Boolean(data && data.body) && REGISTERED.includes(v.state);
    section.hidden = !shown;
    if (!shown) return;
    const body = data.body;
    const rows = [["name", t("issuer.name"), nameIn(body.namesAtAnchor)]];
    const now = nameIn(body.namesNow);
    if (now !== nameIn(body.namesAtAnchor)) rows.push(["renamed", t("issuer.renamed"), now]);
    rows.push(["kind", t("issuer.kind"), kindText(body.kind)]);
    if (body.code) rows.push(["code", t("issuer.code"), body.code]);
    rows.push(["anchoredAt", t("issuer.anchoredAt"), formatDate(data.anchoredAt)]);
    fillList($("issuer-list"), rows);
    const status = $("issuer-status");
    status.textContent = body.status === "suspended" || body.status === "retired" ? t("body." + body.status) : "";
    status.hidden = !status.textContent;
  }

  function historyText(change) {
    const what = t("history." + change.kind);
    let reason = "";
    if (change.kind === "revoked" || change.kind === "suspended") reason = reasonCodeText(change.kind, change.reason);
    if (change.kind === "extended" && isDay(change.validUntil)) reason = t("history.until", { date: formatDay(change.validUntil) });
    return { what: what, when: formatDate(change.at), reason: reason };
  }

  /** The document's history: each change, what, when and why (annulled ones marked). */
  function renderHistory(v) {
    const section = $("history");
    const own = state.chain && REGISTERED.includes(v.state) && state.chain.own;
    const root = state.chain && REGISTERED.includes(v.state) && counts(state.chain.data.rootStatus) ? state.chain.data.rootStatus : null;
    const changes = own ? own.history.slice() : [];
    if (root) changes.push(Object.assign({ batch: true }, root));
    section.hidden = !changes.length;
    const list = $("history-list");
    list.replaceChildren(
      ...changes.map((change) => {
        const li = document.createElement("li");
        const h = historyText(change);
        li.dataset.kind = change.kind;
        const parts = [h.when, change.batch ? t("history.batch") : h.what];
        if (h.reason) parts.push(h.reason);
        li.textContent = parts.join(" — ") + (change.annulled ? " " + t("history.annulled") : "");
        return li;
      }),
    );
  }

  function renderFile() {
    const out = $("document-result");
    const f = state.file;
    out.dataset.status = f ? f.status : "";
    out.textContent = f ? t("document." + f.status, { file: f.name }) : "";
  }

  function renderDetails() {
    const details = $("details");
    const b = state.bundle;
    details.hidden = !b;
    if (!b) return;
    const data = state.chain && state.chain.data;
    const rows = [];
    // The issuer's name comes from the registry only; before its answer only the key is shown.
    if (data && data.body) {
      const body = data.body;
      const status = ["active", "suspended", "retired"].includes(body.status) ? body.status : "unknown";
      rows.push(
        ["details.issuer", nameIn(body.namesAtAnchor)],
        ["details.kind", kindText(body.kind)],
        ["details.code", body.code],
        ["details.bodyId", String(body.id)],
        ["details.bodyStatus", t("bodyStatus." + status)],
      );
    }
    rows.push(["details.key", b.issuer]);
    rows.push(["details.anchoredAt", formatDate(b.anchoredAt)]);
    if (data && Number.isSafeInteger(data.leafCount)) rows.push(["details.leafCount", String(data.leafCount)]);
    if (b.version === 2) rows.push(["details.type", b.type + " v" + b.typeVersion]);
    if (b.version === 2 && b.file) rows.push(["details.file", b.file]);
    rows.push(
      ["details.digest", b.digest],
      ["details.leaf", b.leaf],
      ["details.root", b.root],
      ["details.proofLength", String(b.proof.length)],
      ["details.txHash", b.txHash],
      ["details.blockNumber", b.blockNumber.toString()],
      ["details.registry", b.registry],
      ["details.chainId", b.chainId.toString()],
    );
    fillList(
      $("details-list"),
      rows.filter(([, value]) => value).map(([key, value]) => [key.slice("details.".length), t(key), value]),
    );
  }

  /** The SHA-256 of the file a bundle certifies: v1's digest, v2's `file`, else null. */
  function fileDigest(bundle) {
    return bundle.version === 2 ? bundle.file : bundle.digest;
  }

  // ---------------------------------------------------------------------------------------------
  // Flow
  // ---------------------------------------------------------------------------------------------
  /** Read the proof from the fragment and check it against the registry. */
  async function start() {
    const generation = ++lookupGeneration;
    state.bundle = null;
    state.proofError = null;
    state.chain = null;
    state.file = null;
    // base64url and decimal digits need no percent-encoding, so the fragment is used as it is.
    const fragment = location.hash.replace(/^#/, "").trim();
    if (!fragment) {
      render();
      return;
    }
    if (typeof window.keccak256 !== "function" || !window.crypto || !window.crypto.subtle) {
      state.proofError = { key: "unavailable.noCrypto" };
      render();
      return;
    }
    state.decoding = true;
    render();
    let bundle = null;
    try {
      bundle = fragment.startsWith(S.PREFIX) ? await S.fromText(fragment, await types()) : fromTextV1(fragment);
    } catch (e) {
      if (generation !== lookupGeneration) return;
      state.decoding = false;
      if (e && e.unavailable) {
        state.proofError = { key: e.unavailable };
      } else if (e instanceof ProofFormatError) {
        state.proofError = e.version !== null
          ? { key: "unavailable.version", params: { version: e.version } }
          : /is not known to this page/.test(e.message)
            ? { key: "reason.unknownType" }
            : { key: "reason.malformed" };
      } else {
        throw e;
      }
    }
    if (generation !== lookupGeneration) return;
    state.decoding = false;
    state.bundle = bundle;
    render();
    if (state.bundle) await check(generation);
  }

  async function check(generation) {
    const result = await lookUpRoot(state.bundle);
    if (generation !== lookupGeneration) return;
    state.chain = judge(state.bundle, result);
    render();
  }

  /** Hash the chosen file on the device (WebCrypto SHA-256) and compare it with the proof. */
  async function checkFile(file) {
    if (!file || !state.bundle) return;
    const bundle = state.bundle;
    state.file = { name: file.name, status: "reading" };
    render();
    let status;
    try {
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
      status = toHex(digest) === fileDigest(bundle) ? "match" : "mismatch";
    } catch (e) {
      status = "error";
    }
    if (state.bundle !== bundle) return; // the proof changed meanwhile
    state.file = { name: file.name, status: status };
    render();
  }

  function setLang(lang, remember) {
    if (!LANGS.includes(lang)) return;
    state.lang = lang;
    if (remember) {
      try {
        localStorage.setItem(STORAGE_KEY, lang);
      } catch (e) {
        // Storage can be disabled (private mode): the choice then lasts for this page only.
      }
      // Keep ?lang in step so a reload or a shared link shows the chosen language.
      const url = new URL(location.href);
      if (url.searchParams.has("lang")) {
        url.searchParams.set("lang", lang);
        history.replaceState(null, "", url);
      }
    }
    render();
  }

  function initialLang() {
    const fromQuery = new URLSearchParams(location.search).get("lang");
    if (LANGS.includes(fromQuery)) return fromQuery;
    try {
      const stored = localStorage.getItem(STORAGE_KEY);
      if (LANGS.includes(stored)) return stored;
    } catch (e) {
      // no storage: the browser's language
    }
    for (const tag of navigator.languages || [navigator.language]) {
      const primary = String(tag).toLowerCase().split("-")[0];
      if (LANGS.includes(primary)) return primary;
    }
    return DEFAULT_LANG;
  }

  function init() {
    state.lang = initialLang();
    for (const button of document.querySelectorAll("button[data-lang]")) {
      button.addEventListener("click", () => setLang(button.dataset.lang, true));
    }
    $("retry").addEventListener("click", () => {
      if (!state.bundle) {
        start(); // the types could not be read: read the proof again
        return;
      }
      state.chain = null;
      render();
      check(lookupGeneration);
    });
    const input = $("file");
    input.addEventListener("change", () => {
      const file = input.files[0];
      input.value = ""; // so that choosing the same file again checks it again
      checkFile(file);
    });

    // Drop anywhere on the page; never let the browser open the dropped file instead.
    const zone = $("dropzone");
    const accepts = () => !$("document").hidden;
    window.addEventListener("dragover", (e) => {
      e.preventDefault();
      if (accepts()) zone.classList.add("dragging");
    });
    window.addEventListener("dragleave", (e) => {
      if (!e.relatedTarget) zone.classList.remove("dragging");
    });
    window.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("dragging");
      if (accepts() && e.dataTransfer && e.dataTransfer.files.length) checkFile(e.dataTransfer.files[0]);
    });
    window.addEventListener("hashchange", start);
    start();
  }

  // Exposed for tests and for curious auditors in the browser console.
  window.anchorVerify = { fromText: fromTextV1, leafHash: leafHash, foldProof: foldProof, state: state };

  init();
})();
