// Merkle compatibility between the Python side (ledger/leaf.py, ledger/merkle.py) and the
// contract: the Python package writes test vectors to tests/vectors/merkle.json
// (tests/vectors/generate.py); for each case
// the leaf is recomputed here with ethers and the proof is checked by the contract itself.
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";

import { ethers, networkHelpers, provincesFixture } from "./fixtures.js";
import { LEAF_ABI_TYPES, MerkleTree, flipBit, leafHash, processProof } from "./merkle.js";

const { loadFixture } = networkHelpers;

const VECTORS = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "tests", "vectors", "merkle.json");

interface VectorCase {
  batch_size?: bigint;
  index?: bigint;
  values: unknown[];
  leaf: string;
  root: string;
  proof: string[];
}

interface Vectors {
  leaf_abi_types: string[];
  cases: VectorCase[];
}

/** Parses the vectors, keeping every JSON integer exact (uint64 values exceed 2^53). */
function parseVectors(text: string): Vectors {
  return JSON.parse(text, function (_key, value, context?: { source?: string }) {
    if (typeof value !== "number") return value;
    if (!Number.isInteger(value)) throw new Error(`non-integer number ${value} in ${VECTORS}`);
    if (context?.source !== undefined) return BigInt(context.source);
    if (!Number.isSafeInteger(value)) throw new Error(`integer ${value} cannot be read exactly`);
    return BigInt(value);
  }) as Vectors;
}

function loadVectors(): { vectors?: Vectors; problem?: string } {
  if (!existsSync(VECTORS)) {
    return {
      problem:
        `Merkle test vectors not found: ${VECTORS}. ` +
        "They are written by the Python package: run `python -m tests.vectors.generate` from the " +
        "repository root, then rerun.",
    };
  }
  try {
    return { vectors: parseVectors(readFileSync(VECTORS, "utf8")) };
  } catch (error) {
    return { problem: `cannot read Merkle test vectors ${VECTORS}: ${(error as Error).message}` };
  }
}

const { vectors, problem } = loadVectors();

describe("Merkle compatibility with the Python side", function () {
  if (vectors === undefined) {
    it("has the Python test vectors to check against", function () {
      expect.fail(problem);
    });
    return;
  }

  it("vectors use the leaf layout of ledger/leaf.py and hold at least one case", function () {
    expect(vectors.leaf_abi_types).to.deep.equal(LEAF_ABI_TYPES);
    expect(vectors.cases, "no cases in the vectors file").to.be.an("array").that.is.not.empty;
  });

  vectors.cases.forEach((vector, index) => {
    const where = vector.batch_size === undefined ? "" : ` (leaf ${vector.index} of ${vector.batch_size})`;
    it(`case ${index}${where}: leaf recomputed with ethers, proof accepted by verifyInclusion, tampering rejected`, async function () {
      const { registry } = await loadFixture(provincesFixture);
      const { values, leaf, root, proof } = vector;
      expect(values, "values").to.have.length(vectors.leaf_abi_types.length);

      expect(leafHash(values, vectors.leaf_abi_types)).to.equal(leaf.toLowerCase(), "leaf");
      expect(processProof(leaf, proof)).to.equal(root.toLowerCase(), "root from the test-side proof check");
      expect(await registry.verifyInclusion(root, leaf, proof)).to.equal(true);

      // Each proof element flipped in turn (or, for a one-leaf tree, the leaf) must fail.
      const tampered = proof.map((_, i) => proof.map((p, j) => (i === j ? flipBit(p) : p)));
      const results = await Promise.all(tampered.map((bad) => registry.verifyInclusion(root, leaf, bad)));
      expect(results, "verifyInclusion with one flipped proof element").to.not.include(true);
      expect(await registry.verifyInclusion(root, flipBit(leaf), proof)).to.equal(false);
      expect(await registry.verifyInclusion(flipBit(root), leaf, proof)).to.equal(false);
    });
  });
});

describe("test-side Merkle helper agrees with OpenZeppelin's MerkleProof", function () {
  it("every leaf of trees of 1 to 9 leaves (odd levels included) verifies on chain", async function () {
    const { registry } = await loadFixture(provincesFixture);
    for (let size = 1; size <= 9; size++) {
      const leaves = Array.from({ length: size }, (_, i) => ethers.keccak256(ethers.toUtf8Bytes(`leaf ${size}/${i}`)));
      const tree = new MerkleTree(leaves);
      const checks = leaves.map((leaf, i) => registry.verifyInclusion(tree.root, leaf, tree.proof(i)));
      expect(await Promise.all(checks), `tree of ${size}`).to.deep.equal(leaves.map(() => true));
      expect(await registry.verifyInclusion(tree.root, flipBit(leaves[0]), tree.proof(0))).to.equal(false);
    }
    // A single leaf is its own root, with an empty proof.
    const single = new MerkleTree([ethers.ZeroHash.replace(/0$/, "1")]);
    expect(single.root).to.equal(single.leaves[0]);
    expect(single.proof(0)).to.deep.equal([]);
  });
});
