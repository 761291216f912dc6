// Runs the real @openzeppelin/merkle-tree for the Python tests.
// stdin: {"jobs": [{"of": [[salt, digest], ...]} | {"load": <standard-v1 dump>}, ...]}
// stdout: {"results": [...]}: for "of", {dump, proofs}; for "load", {ok, root, verified} or
// {ok: false, error}. One process handles many trees, to keep the suite fast.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
// The library's own proof walk; tree.getProof(i) is this plus a re-verification that costs
// about 0.5 ms a leaf, which would make the large batches take minutes.
const { getProof } = require("@openzeppelin/merkle-tree/dist/core.js");
const ENCODING = ["bytes32", "bytes32"];

function runOf(values) {
  const tree = StandardMerkleTree.of(values, ENCODING);
  const proofs = tree.values.map(({ treeIndex }, i) =>
    i < 4 ? tree.getProof(i) : getProof(tree.tree, treeIndex),
  );
  return { dump: tree.dump(), proofs };
}

function runLoad(dump) {
  try {
    const tree = StandardMerkleTree.load(dump);
    const verified = dump.values.every(({ value }, i) =>
      StandardMerkleTree.verify(tree.root, ENCODING, value, tree.getProof(i)),
    );
    return { ok: true, root: tree.root, verified };
  } catch (e) {
    return { ok: false, error: String(e.message ?? e) };
  }
}

const { jobs } = JSON.parse(readFileSync(0, "utf8"));
const results = jobs.map((job) => ("of" in job ? runOf(job.of) : runLoad(job.load)));
process.stdout.write(JSON.stringify({ results }));
