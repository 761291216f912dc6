// Builds trees with the real @openzeppelin/merkle-tree for the on-chain property tests.
// stdin:  [[[salt, digest], ...], ...]   a list of trees, each a list of bytes32 hex pairs
// stdout: [{"root": hex, "leaves": [{"leaf": hex, "proof": [hex, ...]}, ...]}, ...]
//         one entry per tree; one leaf entry per value, in the input order.
// One process handles every tree of a test, so the suite starts node once per test.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
const ENCODING = ["bytes32", "bytes32"];

const trees = JSON.parse(readFileSync(0, "utf8"));
const out = trees.map((values) => {
  const tree = StandardMerkleTree.of(values, ENCODING);
  return {
    root: tree.root,
    leaves: values.map((value, i) => ({ leaf: tree.leafHash(value), proof: tree.getProof(i) })),
  };
});
process.stdout.write(JSON.stringify(out));
