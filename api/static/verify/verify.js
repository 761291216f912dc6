// The citizen's verification page: decode the proof carried in the URL fragment, recompute its
// leaf and root with keccak256 (js-sha3), ask the registry API about the root (with the key the
// proof names as issuer, never the leaf), optionally hash the citizen's copy of the document with
// WebCrypto, and show one verdict:
//
//   valid        the root is anchored by the body of an authorised key and nothing is revoked
//   invalid      a definite reason says the document or its proof is not genuine
//   unavailable  the check cannot be done now (API down, chain unreachable): never "invalid"
//
// The issuing body (its name at anchoring time, kind, official code, today's name and status)
// comes from the registry's answer only; a name carried in the proof is decoded and ignored.
// The fragment (#v1.<base64url>) never reaches the server; the document file never leaves the
// device. The Python reference of the format is anchor/proof/compact.py and anchor/merkle/.
"use strict";

(function () {
  const TEXTS = window.ANCHOR_I18N;
  const LANGS = ["fr", "de", "en"];
  const DEFAULT_LANG = "fr";
  const STORAGE_KEY = "anchor.verify.lang";
  // Locales for dates: the issuers are in Luxembourg.
  const LOCALES = { fr: "fr-LU", de: "de-LU", en: "en-GB" };
  const API_TIMEOUT_MS = 15000;

  // ---------------------------------------------------------------------------------------------
  // Compact proof format v1 (docs/proof-format.md, anchor/compact.py)
  // magic 0xA1 | flags | chainId varint | registry 20 | txHash 32 | blockNumber varint
  // | issuer 20 | anchoredAt varint | digest 32 | salt 32 | n (1 byte) | n x 32 proof
  // | [issuerName: varint length + UTF-8, when flags bit 0 is set]
  // ---------------------------------------------------------------------------------------------
  const BUNDLE_VERSION = 1;
  const MAGIC = 0xa0 | BUNDLE_VERSION;
  const FLAG_ISSUER_NAME = 0x01;
  const MAX_PROOF_LENGTH = 32;
  const MAX_UINT64 = (1n << 64n) - 1n;
  const PREFIX = "v" + BUNDLE_VERSION + ".";

  /** A proof that cannot be read. `version` is set when it is a proof of another version. */
  class ProofFormatError extends Error {
    constructor(message, version) {
      super(message);
      this.name = "ProofFormatError";
      this.version = version === undefined ? null : version;
    }
  }

  /** Decode `v1.<base64url>` into a bundle, or throw ProofFormatError (as from_text in Python). */
  function fromText(text) {
    text = text.trim();
    if (!text.startsWith(PREFIX)) {
      const other = /^v(\d+)\./.exec(text);
      if (other) throw new ProofFormatError("unsupported version " + other[1], other[1]);
      throw new ProofFormatError("a compact proof starts with " + PREFIX);
    }
    return decodeCompact(base64urlDecode(text.slice(PREFIX.length)));
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

  /** A cursor over the payload that names the field it could not read. */
  class Reader {
    constructor(data) {
      this.data = data;
      this.pos = 0;
    }
    take(size, field) {
      const end = this.pos + size;
      if (end > this.data.length) throw new ProofFormatError("truncated inside " + field);
      const chunk = this.data.subarray(this.pos, end);
      this.pos = end;
      return chunk;
    }
    byte(field) {
      return this.take(1, field)[0];
    }
    /** Unsigned LEB128, shortest form, at most 64 bits; returned as a BigInt. */
    varint(field) {
      let value = 0n;
      let shift = 0n;
      for (let i = 0; i < 10; i++) {
        const b = this.byte(field);
        value |= BigInt(b & 0x7f) << shift;
        shift += 7n;
        if (!(b & 0x80)) {
          if (b === 0 && i > 0) throw new ProofFormatError(field + " is not a minimal varint");
          if (value > MAX_UINT64) throw new ProofFormatError(field + " exceeds 64 bits");
          return value;
        }
      }
      throw new ProofFormatError(field + " is longer than a 64-bit varint");
    }
    finish() {
      const extra = this.data.length - this.pos;
      if (extra) throw new ProofFormatError(extra + " trailing byte(s)");
    }
  }

  /** Decode the compact bytes; the leaf and the root are recomputed, never read. */
  function decodeCompact(data) {
    const r = new Reader(data);
    const magic = r.byte("magic byte");
    if (magic !== MAGIC) {
      if (magic >> 4 === 0xa) throw new ProofFormatError("unsupported version", String(magic & 0x0f));
      throw new ProofFormatError("not a compact proof");
    }
    const flags = r.byte("flags");
    if (flags & ~FLAG_ISSUER_NAME) throw new ProofFormatError("unknown flags");
    const bundle = {};
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
      const length = r.varint("issuerName length");
      if (length > BigInt(data.length)) throw new ProofFormatError("truncated inside issuerName");
      const raw = r.take(Number(length), "issuerName");
      try {
        bundle.issuerName = new TextDecoder("utf-8", { fatal: true }).decode(raw);
      } catch (e) {
        throw new ProofFormatError("issuerName is not valid UTF-8");
      }
    }
    r.finish();
    // The bundle model refuses a zero chain id or anchoring time (anchor/proof.py).
    if (bundle.chainId === 0n || bundle.anchoredAt === 0n) {
      throw new ProofFormatError("chainId and anchoredAt must be positive");
    }
    const leaf = leafHash(salt, digest);
    bundle.digest = toHex(digest);
    bundle.salt = toHex(salt);
    bundle.leaf = toHex(leaf);
    bundle.proof = proof.map(toHex);
    bundle.root = toHex(foldProof(leaf, proof));
    return bundle;
  }

  // ---------------------------------------------------------------------------------------------
  // Merkle hashing (anchor/hashing.py): OpenZeppelin StandardMerkleTree, leaf (bytes32, bytes32)
  // ---------------------------------------------------------------------------------------------
  function keccak(bytes) {
    return new Uint8Array(window.keccak256.arrayBuffer(bytes));
  }

  /** leaf = keccak256(keccak256(salt ++ digest)) */
  function leafHash(salt, digest) {
    const pair = new Uint8Array(64);
    pair.set(salt, 0);
    pair.set(digest, 32);
    return keccak(keccak(pair));
  }

  /** Compare two 32-byte nodes as unsigned big-endian integers. */
  function compareBytes(a, b) {
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) return a[i] - b[i];
    }
    return 0;
  }

  /** Parent node: keccak256 of the two children sorted as unsigned integers. */
  function hashPair(a, b) {
    const out = new Uint8Array(64);
    const [lo, hi] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
    out.set(lo, 0);
    out.set(hi, 32);
    return keccak(out);
  }

  /** Fold a proof into the root it implies (OpenZeppelin MerkleProof.processProof). */
  function foldProof(leaf, proof) {
    return proof.reduce((node, sibling) => hashPair(node, sibling), leaf);
  }

  function toHex(bytes) {
    let hex = "0x";
    for (const b of bytes) hex += b.toString(16).padStart(2, "0");
    return hex;
  }

  // ---------------------------------------------------------------------------------------------
  // Registry lookup: GET /v1/roots/{root}?key={issuer}. The leaf is never sent: the server
  // cannot tell which document of the batch is being checked.
  // Returns {kind: "answer", data} | {kind: "notAnchored"} | {kind: "unavailable", reason}.
  // Anything but 200 and 404 (503, 500, a network failure, a timeout) is "unavailable".
  // ---------------------------------------------------------------------------------------------
  async function lookUpRoot(bundle) {
    const url = "/v1/roots/" + bundle.root + "?key=" + bundle.issuer;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), API_TIMEOUT_MS);
    let response;
    try {
      response = await fetch(url, {
        cache: "no-store",
        headers: { Accept: "application/json" },
        signal: controller.signal,
      });
    } catch (e) {
      return { kind: "unavailable", reason: "unavailable.network" };
    } finally {
      clearTimeout(timer);
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

  /** A revocation counts unless the registrar annulled it (made by a compromised key). */
  function counts(change) {
    return Boolean(change) && change.kind === "revoked" && change.annulled !== true;
  }

  /** Same integer? API numbers are JSON numbers, proof numbers are BigInts. */
  function sameInt(apiValue, bigValue) {
    return Number.isSafeInteger(apiValue) && BigInt(apiValue) === bigValue;
  }

  /**
   * Judge the registry's answer against the bundle. Returns
   * {status: "ok" | "invalid" | "unavailable", reasons: [{key, params, revocation}], data}.
   */
  function judge(bundle, result) {
    if (result.kind === "notAnchored") {
      return { status: "invalid", reasons: [{ key: "reason.notAnchored" }] };
    }
    if (result.kind === "unavailable") {
      return { status: "unavailable", reasons: [{ key: result.reason }] };
    }
    const d = result.data;
    const wellFormed =
      d && typeof d === "object" && typeof d.root === "string" && typeof d.key === "string" &&
      typeof d.registry === "string" && Number.isSafeInteger(d.anchoredAt) &&
      Number.isSafeInteger(d.chainId) && typeof d.authorised === "boolean" && isBody(d.body) &&
      isChange(d.rootStatus) && Array.isArray(d.documentStatuses) &&
      d.documentStatuses.every((c) => c && typeof c.leaf === "string" && isChange(c));
    if (!wellFormed || d.root.toLowerCase() !== bundle.root) {
      return { status: "unavailable", reasons: [{ key: "reason.unexpectedAnswer" }] };
    }
    if (!sameInt(d.chainId, bundle.chainId) || d.registry.toLowerCase() !== bundle.registry) {
      return { status: "unavailable", reasons: [{ key: "unavailable.otherRegistry" }], data: d };
    }
    if (d.anchored !== true) {
      return { status: "invalid", reasons: [{ key: "reason.notAnchored" }], data: d };
    }
    const reasons = [];
    if (d.key.toLowerCase() !== bundle.issuer) reasons.push({ key: "reason.issuerMismatch" });
    if (!sameInt(d.anchoredAt, bundle.anchoredAt)) reasons.push({ key: "reason.timeMismatch" });
    if (d.authorised !== true) reasons.push({ key: "reason.notAuthorised" });
    // The server lists the revoked documents of the root; the page finds its own leaf there.
    const own = d.documentStatuses.find((c) => c.leaf.toLowerCase() === bundle.leaf && counts(c));
    if (own) reasons.push({ key: "reason.documentRevoked", revocation: own });
    if (counts(d.rootStatus)) {
      reasons.push({ key: "reason.rootRevoked", revocation: d.rootStatus });
    }
    return { status: reasons.length ? "invalid" : "ok", reasons: reasons, data: d };
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
      hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    });
    const when = new Date(Number(unixSeconds) * 1000);
    // A time beyond what Date holds (a forged proof can carry any uint64) shows as a number.
    return Number.isNaN(when.getTime()) ? String(unixSeconds) : format.format(when);
  }

  function revocationText(revocation) {
    const code = revocation.reason;
    const key = "revocation." + code;
    return key in TEXTS[DEFAULT_LANG] ? t(key) : t("revocation.other", { code: code });
  }

  function reasonText(reason) {
    if (reason.revocation) {
      return t(reason.key, {
        date: formatDate(reason.revocation.at),
        reason: revocationText(reason.revocation),
      });
    }
    return t(reason.key, reason.params);
  }

  /** The overall verdict from the proof, the registry's answer and the document check. */
  function verdict() {
    if (!state.bundle && !state.proofError) return { state: "none", reasons: [] };
    if (state.proofError) {
      const s = state.proofError.key.startsWith("unavailable.") ? "unavailable" : "invalid";
      return { state: s, reasons: [state.proofError] };
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
    return { state: "valid", reasons: [] };
  }

  const $ = (id) => document.getElementById(id);

  function render() {
    document.documentElement.lang = state.lang;
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const button of document.querySelectorAll("button[data-lang]")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
    }

    const v = verdict();
    const box = $("verdict");
    box.dataset.state = v.state;
    $("verdict-text").textContent = t("verdict." + v.state);
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
    renderBody(v);
    $("retry").hidden = !v.retry;
    document.title = t("verdict." + v.state) + " — " + t("page.title");

    $("document").hidden = !state.bundle || !window.crypto || !window.crypto.subtle;
    renderFile();
    renderDetails();
  }

  /** A body's name in the page's language; French when it has none in that language. */
  function nameIn(names) {
    return names[state.lang] || names.fr;
  }

  function kindText(kind) {
    return BODY_KINDS.includes(kind) ? t("kind." + kind) : t("kind.other");
  }

  function summaryText(v) {
    if (v.state === "valid") {
      const data = state.chain.data;
      // The registry's name in force at anchoring time; never the name the proof carries.
      const issuer = nameIn(data.body.namesAtAnchor);
      const key = state.file && state.file.status === "match" ? "summary.validWithDoc" : "summary.valid";
      return t(key, { issuer: issuer, date: formatDate(data.anchoredAt) });
    }
    if (v.state === "invalid") return t("summary.invalid");
    if (v.state === "unavailable") return t("summary.unavailable");
    if (v.state === "none") return t("summary.none");
    return t("summary.checking");
  }

  /** Under a valid verdict: the body's kind and code, today's name, a suspension or retirement. */
  function renderBody(v) {
    const list = $("verdict-body");
    const lines = [];
    if (v.state === "valid") {
      const body = state.chain.data.body;
      const code = body.code ? t("body.code", { code: body.code }) : "";
      lines.push(["kind", code ? kindText(body.kind) + " · " + code : kindText(body.kind)]);
      const now = nameIn(body.namesNow);
      if (now !== nameIn(body.namesAtAnchor)) lines.push(["renamed", t("body.renamed", { name: now })]);
      if (body.status === "suspended" || body.status === "retired") {
        lines.push([body.status, t("body." + body.status)]);
      }
    }
    list.replaceChildren(
      ...lines.map(([field, text]) => {
        const li = document.createElement("li");
        li.dataset.field = field;
        li.textContent = text;
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
    const list = $("details-list");
    list.replaceChildren();
    for (const [key, ...given] of rows) {
      const values = given.filter((value) => value); // an empty code shows no row
      if (!values.length) continue;
      const dt = document.createElement("dt");
      dt.textContent = t(key);
      list.append(dt);
      for (const value of values) {
        const dd = document.createElement("dd");
        dd.textContent = value;
        dd.dataset.field = key.slice("details.".length);
        if (/^0x[0-9a-f]+$/.test(value)) dd.className = "hex";
        list.append(dd);
      }
    }
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
    // base64url needs no percent-encoding, so the fragment is used as it is.
    const fragment = location.hash.replace(/^#/, "");
    if (!fragment) {
      render();
      return;
    }
    if (typeof window.keccak256 !== "function") {
      state.proofError = { key: "unavailable.noCrypto" };
      render();
      return;
    }
    try {
      state.bundle = fromText(fragment);
    } catch (e) {
      if (!(e instanceof ProofFormatError)) throw e;
      state.proofError = e.version !== null
        ? { key: "unavailable.version", params: { version: e.version } }
        : { key: "reason.malformed" };
    }
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
      status = toHex(digest) === bundle.digest ? "match" : "mismatch";
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
      // no storage: default language
    }
    return DEFAULT_LANG;
  }

  function init() {
    state.lang = initialLang();
    for (const button of document.querySelectorAll("button[data-lang]")) {
      button.addEventListener("click", () => setLang(button.dataset.lang, true));
    }
    $("retry").addEventListener("click", () => {
      if (!state.bundle) return;
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
  window.anchorVerify = { fromText: fromText, leafHash: leafHash, foldProof: foldProof, state: state };

  init();
})();
