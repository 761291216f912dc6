// Typed documents, proof format version 2 (docs/proof-format.md, sections 7 to 9): decode the
// `#v2.<digits>` fragment, rebuild the document's statement from its type, file digest, public
// facts and private commitment, and compute its digest and Merkle leaf, exactly as the Python
// reference (anchor/proof/statement.py, anchor/proof/compact2.py).
//
//   digest    = SHA-256("anchor/statement/v2" 0x00 || JCS(statement))
//   statement = {"type", "typeVersion", "facts", ["file"], ["private"]}
//   leaf      = keccak256(keccak256(salt ++ digest))       (OpenZeppelin StandardMerkleTree)
//
// JCS (RFC 8785) is implemented below for what a statement holds: objects, strings and safe
// integers (keys sorted by UTF-16 code units, strings escaped as JSON.stringify does). SHA-256
// is WebCrypto's; keccak256 is the vendored js-sha3 (/static/vendor/sha3.min.js), loaded first.
// Facts are hashed exactly as carried: never normalised, so an NFD copy of an NFC fact fails.
//
// Exposed as window.ANCHOR_STATEMENT (verify.js reads version 1 with its Reader, hashing and
// hex helpers too); nothing runs on load.
"use strict";

(function (root) {
  const BUNDLE_VERSION = 2;
  const MAGIC = 0xa0 | BUNDLE_VERSION;
  const PREFIX = "v" + BUNDLE_VERSION + ".";
  const FLAG_FILE = 0x01;
  const FLAG_PRIVATE = 0x02;
  const MAX_PROOF_LENGTH = 32;
  const MAX_FACT_LENGTH = 1000;
  const MAX_UINT64 = (1n << 64n) - 1n;
  const STATEMENT_DOMAIN = "anchor/statement/v2\u0000";
  // Decimal text: 22 bytes (a big-endian integer) to 53 digits; the last k < 22 bytes to
  // the number of digits of 256^k - 1.
  const GROUP = 22;
  const DIGITS = [0];
  for (let k = 1; k <= GROUP; k++) DIGITS.push(((1n << BigInt(8 * k)) - 1n).toString().length);
  const ORDINAL_1970 = 719163; // date(1970, 1, 1).toordinal() in Python
  const MAX_ORDINAL = 3652059; // 9999-12-31
  const DAY_MS = 86400000;

  /** A proof or statement that cannot be read; `version` is set for another version's proof. */
  class ProofFormatError extends Error {
    constructor(message, version) {
      super(message);
      this.name = "ProofFormatError";
      this.version = version === undefined ? null : version;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Decimal digits <-> bytes
  // -------------------------------------------------------------------------------------------
  /** The bytes of a `v2.` digit string; refuses any string the Python encoder cannot write. */
  function digitsToBytes(text) {
    if (!/^[0-9]*$/.test(text)) throw new ProofFormatError("the compact proof is not decimal digits");
    const full = Math.floor(text.length / DIGITS[GROUP]);
    const rest = text.length % DIGITS[GROUP];
    const restBytes = rest ? DIGITS.indexOf(rest) : 0;
    if (restBytes <= 0 && rest) throw new ProofFormatError("the compact proof cannot have " + text.length + " digits");
    const sizes = new Array(full).fill(GROUP);
    if (rest) sizes.push(restBytes);
    const out = new Uint8Array(full * GROUP + restBytes);
    let pos = 0;
    let at = 0;
    for (const size of sizes) {
      let value = BigInt(text.slice(pos, pos + DIGITS[size]));
      pos += DIGITS[size];
      if (value >= 1n << BigInt(8 * size)) throw new ProofFormatError("a digit group is out of range");
      for (let i = size - 1; i >= 0; i--) {
        out[at + i] = Number(value & 0xffn);
        value >>= 8n;
      }
      at += size;
    }
    return out;
  }

  /** The digit string of `bytes` (as anchor.proof.compact2.bytes_to_digits). */
  function bytesToDigits(bytes) {
    let out = "";
    for (let start = 0; start < bytes.length; start += GROUP) {
      const chunk = bytes.subarray(start, start + GROUP);
      let value = 0n;
      for (const b of chunk) value = (value << 8n) | BigInt(b);
      out += value.toString().padStart(DIGITS[chunk.length], "0");
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Compact v2
  // -------------------------------------------------------------------------------------------
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
    /** A varint that must be a length within the payload. */
    length(field) {
      const n = this.varint(field);
      if (n > BigInt(this.data.length)) throw new ProofFormatError("truncated inside " + field);
      return Number(n);
    }
    finish() {
      const extra = this.data.length - this.pos;
      if (extra) throw new ProofFormatError(extra + " trailing byte(s)");
    }
  }

  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const encoder = new TextEncoder();

  function toHex(bytes) {
    let hex = "0x";
    for (const b of bytes) hex += b.toString(16).padStart(2, "0");
    return hex;
  }

  function fromHex(hex) {
    if (!/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new ProofFormatError("not hex: " + hex);
    const out = new Uint8Array((hex.length - 2) / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 + 2 * i, 2), 16);
    return out;
  }

  /** `YYYY-MM-DD` of a day number (1 = 0001-01-01, Python's date.fromordinal). */
  function dateOfOrdinal(ordinal) {
    const d = new Date((ordinal - ORDINAL_1970) * DAY_MS);
    const pad = (n, w) => String(n).padStart(w, "0");
    return pad(d.getUTCFullYear(), 4) + "-" + pad(d.getUTCMonth() + 1, 2) + "-" + pad(d.getUTCDate(), 2);
  }

  /** The type definition `types` holds for (id, version): an object keyed "id.vN", or a function. */
  function findType(types, id, version) {
    const key = id + ".v" + version;
    const found = typeof types === "function" ? types(id, version) : types && types[key];
    if (!found) {
      throw new ProofFormatError("the document type " + id + " version " + version + " is not known to this page");
    }
    return found;
  }

  /**
   * Decode compact v2 bytes into a bundle (as anchor.proof.compact2.decode_compact_v2). The
   * digest, leaf and root are recomputed, never read: resolves to the bundle object with
   * `digest`, `leaf`, `root` as 0x-hex, `chainId`, `blockNumber`, `anchoredAt`, `typeVersion`
   * as BigInt or Number as in verify.js, `facts` in the type's order, and `doctype`.
   */
  async function decodeCompactV2(data, types) {
    const r = new Reader(data);
    const magic = r.byte("magic byte");
    if (magic !== MAGIC) {
      if (magic >> 4 === 0xa) throw new ProofFormatError("unsupported version", String(magic & 0x0f));
      throw new ProofFormatError("not a compact proof");
    }
    const flags = r.byte("flags");
    if (flags & ~(FLAG_FILE | FLAG_PRIVATE)) throw new ProofFormatError("unknown flags");
    const bundle = { version: BUNDLE_VERSION };
    bundle.chainId = r.varint("chainId");
    bundle.registry = toHex(r.take(20, "registry"));
    bundle.txHash = toHex(r.take(32, "txHash"));
    bundle.blockNumber = r.varint("blockNumber");
    bundle.issuer = toHex(r.take(20, "issuer"));
    bundle.anchoredAt = r.varint("anchoredAt");
    const rawType = r.take(r.length("type length"), "type");
    if (!/^[\x20-\x7e]*$/.test(String.fromCharCode(...rawType))) throw new ProofFormatError("type is not ASCII");
    bundle.type = String.fromCharCode(...rawType);
    const typeVersion = r.varint("typeVersion");
    if (typeVersion > 65535n) throw new ProofFormatError("typeVersion out of range");
    bundle.typeVersion = Number(typeVersion);
    const doctype = findType(types, bundle.type, bundle.typeVersion);
    bundle.file = flags & FLAG_FILE ? toHex(r.take(32, "file")) : null;
    bundle.private = flags & FLAG_PRIVATE ? toHex(r.take(32, "private")) : null;
    bundle.facts = {};
    for (const spec of doctype.facts) {
      const field = "facts." + spec.name;
      if (spec.kind === "date") {
        const ordinal = r.varint(field);
        if (ordinal === 0n) continue;
        if (ordinal > BigInt(MAX_ORDINAL)) throw new ProofFormatError(field + " is not a date");
        bundle.facts[spec.name] = dateOfOrdinal(Number(ordinal));
      } else {
        const raw = r.take(r.length(field + " length"), field);
        if (!raw.length) continue;
        let text;
        try {
          text = utf8.decode(raw);
        } catch (e) {
          throw new ProofFormatError(field + " is not UTF-8");
        }
        // As the Python bundle model: at most MAX_FACT_LENGTH characters (code points).
        if ([...text].length > MAX_FACT_LENGTH) throw new ProofFormatError(field + " is too long");
        bundle.facts[spec.name] = text;
      }
    }
    const salt = r.take(32, "salt");
    const count = r.byte("proof length");
    if (count > MAX_PROOF_LENGTH) throw new ProofFormatError("proof longer than " + MAX_PROOF_LENGTH);
    const proof = [];
    for (let i = 0; i < count; i++) proof.push(r.take(32, "proof[" + i + "]"));
    r.finish();
    if (bundle.chainId === 0n || bundle.anchoredAt === 0n) {
      throw new ProofFormatError("chainId and anchoredAt must be positive");
    }
    const digest = await statementDigest(bundle);
    const leaf = leafHash(salt, digest);
    bundle.digest = toHex(digest);
    bundle.salt = toHex(salt);
    bundle.leaf = toHex(leaf);
    bundle.proof = proof.map(toHex);
    bundle.root = toHex(foldProof(leaf, proof));
    bundle.doctype = doctype;
    return bundle;
  }

  /** Decode a `v2.<digits>` text (a URL fragment without its `#`). */
  function fromText(text, types) {
    text = text.trim();
    if (!text.startsWith(PREFIX)) {
      const other = /^v(\d+)\./.exec(text);
      if (other) return Promise.reject(new ProofFormatError("unsupported version " + other[1], other[1]));
      return Promise.reject(new ProofFormatError("a typed compact proof starts with " + PREFIX));
    }
    let data;
    try {
      data = digitsToBytes(text.slice(PREFIX.length));
    } catch (e) {
      return Promise.reject(e);
    }
    return decodeCompactV2(data, types);
  }

  // -------------------------------------------------------------------------------------------
  // The statement
  // -------------------------------------------------------------------------------------------
  const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

  /** RFC 8785 (JCS) of objects, strings and safe integers; throws on anything else. */
  function canonicalize(value) {
    if (typeof value === "string") {
      if (LONE_SURROGATE.test(value)) throw new ProofFormatError("a string is not valid Unicode");
      return JSON.stringify(value);
    }
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) throw new ProofFormatError("only safe integers are canonical here");
      return String(value);
    }
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const keys = Object.keys(value).sort(); // UTF-16 code unit order, as JCS
      return "{" + keys.map((k) => canonicalize(k) + ":" + canonicalize(value[k])).join(",") + "}";
    }
    throw new ProofFormatError("a statement holds objects, strings and integers only");
  }

  /** The statement object of a v2 bundle (JSON or decoded): type, version, facts, file, private. */
  function statementOf(bundle) {
    const facts = {};
    for (const [name, v] of Object.entries(bundle.facts || {})) {
      if (typeof v !== "string") throw new ProofFormatError("facts." + name + " is not a string");
      facts[name] = v;
    }
    const statement = { type: bundle.type, typeVersion: Number(bundle.typeVersion), facts };
    if (bundle.file) statement.file = bundle.file.toLowerCase();
    if (bundle.private) statement.private = bundle.private.toLowerCase();
    return statement;
  }

  /** The exact bytes hashed: "anchor/statement/v2" 0x00 then JCS(statement), UTF-8. */
  function statementBytes(bundle) {
    return encoder.encode(STATEMENT_DOMAIN + canonicalize(statementOf(bundle)));
  }

  /** Promise of SHA-256(domain || JCS(statement)), 32 bytes. */
  async function statementDigest(bundle) {
    return new Uint8Array(await root.crypto.subtle.digest("SHA-256", statementBytes(bundle)));
  }

  function keccak(bytes) {
    return new Uint8Array(root.keccak256.arrayBuffer(bytes));
  }

  /** leaf = keccak256(keccak256(salt ++ digest)) */
  function leafHash(salt, digest) {
    const pair = new Uint8Array(64);
    pair.set(salt, 0);
    pair.set(digest, 32);
    return keccak(keccak(pair));
  }

  function compareBytes(a, b) {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return 0;
  }

  function foldProof(leaf, proof) {
    return proof.reduce((node, sibling) => {
      const out = new Uint8Array(64);
      const [lo, hi] = compareBytes(node, sibling) <= 0 ? [node, sibling] : [sibling, node];
      out.set(lo, 0);
      out.set(hi, 32);
      return keccak(out);
    }, leaf);
  }

  /**
   * The offline checks of a v2 JSON bundle, as anchor.verify.offline: resolves to
   * {statement, leaf, root} booleans and the recomputed values. `statement` false means the
   * certified facts do not match the proof.
   */
  async function checkBundle(bundle) {
    const digest = toHex(await statementDigest(bundle));
    const leaf = toHex(leafHash(fromHex(bundle.salt), fromHex(bundle.digest)));
    const rootHex = toHex(foldProof(fromHex(bundle.leaf), (bundle.proof || []).map(fromHex)));
    return {
      statement: digest === bundle.digest.toLowerCase(),
      leaf: leaf === bundle.leaf.toLowerCase(),
      root: rootHex === bundle.root.toLowerCase(),
      digest,
      computedLeaf: leaf,
      computedRoot: rootHex,
    };
  }

  root.ANCHOR_STATEMENT = Object.freeze({
    PREFIX,
    ProofFormatError,
    Reader,
    bytesToDigits,
    canonicalize,
    checkBundle,
    dateOfOrdinal,
    decodeCompactV2,
    digitsToBytes,
    fromHex,
    foldProof, // bytes: the leaf and the siblings as Uint8Array, the root returned as one
    fromText,
    leafBytes: leafHash, // bytes: keccak256(keccak256(salt ++ digest)) as a Uint8Array
    leafHash: (salt, digest) => toHex(leafHash(fromHex(salt), fromHex(digest))),
    statementBytes,
    statementDigest: async (bundle) => toHex(await statementDigest(bundle)),
    statementOf,
    toHex,
  });
})(typeof window !== "undefined" ? window : globalThis);
