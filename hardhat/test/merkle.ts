// Test-side Merkle helper. It follows the same rules as ledger/merkle.py and OpenZeppelin's
// MerkleProof: leaves are double-hashed ABI tuples, pairs are hashed sorted, leaves keep their
// order and an odd node at the end of a level moves up unchanged. merkle-vectors.ts checks it
// against the contract, so the revocation tests can rely on the proofs it produces.
import { AbiCoder, concat, getBytes, hexlify, keccak256, sha256, toUtf8Bytes } from "ethers";

/** ABI layout of a certificate leaf (ledger/leaf.py LEAF_ABI_TYPES). */
export const LEAF_ABI_TYPES: readonly string[] = [
  "uint8",
  "bytes32",
  "bytes16",
  "bytes32",
  "bytes32",
  "bytes32",
  "uint64",
  "uint64",
];

const abi = AbiCoder.defaultAbiCoder();

/** keccak256(keccak256(abi.encode(values))): OpenZeppelin's double-hashed leaf. */
export function leafHash(values: readonly unknown[], types: readonly string[] = LEAF_ABI_TYPES) {
  return keccak256(keccak256(abi.encode(types, values)));
}

/** OpenZeppelin's commutative pair hash. */
export function hashPair(a: string, b: string): string {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return keccak256(concat(x < y ? [x, y] : [y, x]));
}

/** The root `proof` leads to from `leaf` (OpenZeppelin processProof). */
export function processProof(leaf: string, proof: readonly string[]): string {
  return proof.reduce((node, sibling) => hashPair(node, sibling), leaf.toLowerCase());
}

/** Flip the lowest bit of a 32-byte hex value. */
export function flipBit(value: string): string {
  const bytes = getBytes(value);
  bytes[bytes.length - 1] ^= 0x01;
  return hexlify(bytes);
}

export class MerkleTree {
  readonly levels: string[][];

  constructor(leaves: readonly string[]) {
    if (leaves.length === 0) throw new Error("a Merkle tree needs at least one leaf");
    let level = leaves.map((leaf) => leaf.toLowerCase());
    this.levels = [level];
    while (level.length > 1) {
      const next: string[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) next.push(hashPair(level[i], level[i + 1]));
      if (level.length % 2 === 1) next.push(level[level.length - 1]);
      this.levels.push(next);
      level = next;
    }
  }

  get root(): string {
    return this.levels[this.levels.length - 1][0];
  }

  get leaves(): readonly string[] {
    return this.levels[0];
  }

  proof(index: number): string[] {
    if (index < 0 || index >= this.leaves.length) throw new Error(`no leaf ${index}`);
    const siblings: string[] = [];
    let position = index;
    for (const level of this.levels.slice(0, -1)) {
      const pair = position ^ 1;
      if (pair < level.length) siblings.push(level[pair]);
      position >>= 1;
    }
    return siblings;
  }
}

export interface Batch {
  /** The issuer whose certificates these are (bytes32), who anchors the root. */
  issuerId: string;
  values: unknown[][];
  tree: MerkleTree;
  root: string;
  leafCount: number;
}

/**
 * A deterministic batch of `size` certificates of one issuer and type. `label` makes the
 * certificate numbers, commitments and document digests of different batches distinct.
 */
export function makeBatch(issuerId: string, certType: string, size: number, label: string): Batch {
  const values: unknown[][] = [];
  for (let i = 0; i < size; i++) {
    const validFrom = 1_700_000_000n + BigInt(i) * 60n;
    values.push([
      1,
      issuerId,
      certType,
      sha256(toUtf8Bytes(`${label}-No.${i}`)),
      keccak256(toUtf8Bytes(`claims:${label}:${i}`)),
      sha256(toUtf8Bytes(`sealed-pdf:${label}:${i}`)),
      validFrom,
      i % 3 === 0 ? 0n : validFrom + 365n * 86_400n,
    ]);
  }
  const tree = new MerkleTree(values.map((v) => leafHash(v)));
  return { issuerId, values, tree, root: tree.root, leafCount: size };
}
