// Peer: @openzeppelin/merkle-tree. argv: packed values file (n * 64 bytes: salt ++ digest).
// Prints {seconds, root, proofs, proofBytes}; the clock covers tree + every proof.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const buf = readFileSync(process.argv[2]);
const values = [];
for (let o = 0; o < buf.length; o += 64) {
  values.push(["0x" + buf.toString("hex", o, o + 32), "0x" + buf.toString("hex", o + 32, o + 64)]);
}
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
const tree = StandardMerkleTree.of(values, ["bytes32", "bytes32"]);
let proofs = 0;
let proofBytes = 0;
for (let i = 0; i < values.length; i++) {
  proofBytes += tree.getProof(i).length * 32;
  proofs++;
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const used = process.cpuUsage(c0);
const cpu = (used.user + used.system) / 1e6;
console.log(JSON.stringify({ seconds, cpu, root: tree.root, proofs, proofBytes }));
