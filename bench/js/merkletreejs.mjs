// Peer: merkletreejs with keccak256 and sortPairs. argv: packed values file (n * 64 bytes).
// Leaves are hashed twice as in the standard-v1 format, so the keccak work matches; the tree
// layout differs from OpenZeppelin's (no leaf sorting, odd nodes promoted), so the root does too.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const { MerkleTree } = require("merkletreejs");
const keccak256 = require("keccak256");
const buf = readFileSync(process.argv[2]);
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
const leaves = [];
for (let o = 0; o < buf.length; o += 64) {
  leaves.push(keccak256(keccak256(buf.subarray(o, o + 64))));
}
const tree = new MerkleTree(leaves, keccak256, { sortPairs: true });
const all = tree.getProofs();
let proofBytes = 0;
for (const p of all) proofBytes += p.length * 32;
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const used = process.cpuUsage(c0);
const cpu = (used.user + used.system) / 1e6;
console.log(JSON.stringify({ seconds, cpu, root: tree.getHexRoot(), proofs: all.length, proofBytes }));
