import { expect } from "chai";

import {
  CA,
  DEGREE,
  DIPLOMA,
  JS_EDU,
  LICENCE,
  UNKNOWN_ISSUER,
  ZERO16,
  ZERO32,
  ZJ,
  ZJ_EDU,
  anchoredFixture,
  batches,
  blockOf,
  calldataGas,
  ethers,
  fingerprint,
  issuersFixture,
  mined,
  networkHelpers,
} from "./fixtures.js";

const { loadFixture } = networkHelpers;

const INTRINSIC_TX_GAS = 21_000n;
const root = (label: string) => ethers.keccak256(ethers.toUtf8Bytes(`root:${label}`));

/** A deterministic stand-in root with no zero byte (first of label#0, label#1, ... to qualify). */
function rootWithoutZeroBytes(label: string): string {
  for (let n = 0; ; n++) {
    const candidate = root(`${label}#${n}`);
    if (ethers.getBytes(candidate).every((byte) => byte !== 0)) return candidate;
  }
}

describe("Anchors", function () {
  it("records a root from an active issuer: RootAnchored and getAnchor", async function () {
    const { registry, zjEdu } = await loadFixture(issuersFixture);
    const batch = batches().zj1024;
    const tx = registry.connect(zjEdu).anchor(batch.root, batch.leafCount, DIPLOMA);
    await expect(tx).to.emit(registry, "RootAnchored").withArgs(ZJ_EDU, batch.root, DIPLOMA, zjEdu.address, 1024);
    const { number, timestamp } = await blockOf(await mined(tx));

    const anchor = await registry.getAnchor(ZJ_EDU, batch.root);
    expect(anchor.certType).to.equal(DIPLOMA);
    expect(anchor.leafCount).to.equal(1024n);
    expect(anchor.blockNumber).to.equal(number);
    expect(anchor.timestamp).to.equal(timestamp);
  });

  it("answers all zero for a root never anchored, by that issuer or by an unknown one", async function () {
    const { registry, zjBatch } = await loadFixture(anchoredFixture);
    const fields = (a: { certType: string; leafCount: bigint; blockNumber: bigint; timestamp: bigint }) => [
      a.certType,
      a.leafCount,
      a.blockNumber,
      a.timestamp,
    ];
    const zero = [ZERO16, 0n, 0n, 0n];
    expect(fields(await registry.getAnchor(ZJ_EDU, root("never")))).to.deep.equal(zero);
    // zjBatch is ZJ-EDU's: nobody else anchored it.
    expect(fields(await registry.getAnchor(JS_EDU, zjBatch.root))).to.deep.equal(zero);
    expect(fields(await registry.getAnchor(UNKNOWN_ISSUER, zjBatch.root))).to.deep.equal(zero);
  });

  it("stores the largest leafCount a uint32 holds", async function () {
    const { registry, zjEdu } = await loadFixture(issuersFixture);
    await mined(registry.connect(zjEdu).anchor(root("max"), 0xffffffffn, DIPLOMA));
    expect((await registry.getAnchor(ZJ_EDU, root("max"))).leafCount).to.equal(0xffffffffn);
  });

  describe("refusals", function () {
    it("refuses accounts that are not an issuer's current account (NotAnIssuer)", async function () {
      const { registry, admin, zjAuthority, outsider } = await loadFixture(issuersFixture);
      for (const caller of [outsider, zjAuthority, admin]) {
        await expect(registry.connect(caller).anchor(root("x"), 1, DIPLOMA))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryNotAnIssuer")
          .withArgs(caller.address);
      }
    });

    it("refuses a suspended issuer (IssuerNotActive)", async function () {
      const { registry, zjAuthority, zjEdu } = await loadFixture(issuersFixture);
      await mined(registry.connect(zjAuthority).suspendIssuer(ZJ_EDU));
      await expect(registry.connect(zjEdu).anchor(root("x"), 1, DIPLOMA))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryIssuerNotActive")
        .withArgs(ZJ_EDU);
    });

    it("refuses a type the issuer may not issue, and the zero type (CertTypeNotAllowed)", async function () {
      const { registry, zjEdu } = await loadFixture(issuersFixture);
      for (const type of [LICENCE, ZERO16]) {
        await expect(registry.connect(zjEdu).anchor(root("x"), 1, type))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryCertTypeNotAllowed")
          .withArgs(ZJ_EDU, type);
      }
    });

    it("refuses the zero root (InvalidRoot) and an empty batch (InvalidLeafCount)", async function () {
      const { registry, zjEdu } = await loadFixture(issuersFixture);
      await expect(registry.connect(zjEdu).anchor(ZERO32, 1, DIPLOMA)).to.be.revertedWithCustomError(
        registry,
        "CertificateRegistryInvalidRoot",
      );
      await expect(registry.connect(zjEdu).anchor(root("x"), 0, DIPLOMA)).to.be.revertedWithCustomError(
        registry,
        "CertificateRegistryInvalidLeafCount",
      );
    });

    it("refuses a root the same issuer anchored before, whatever the type or size", async function () {
      const { registry, zjEdu, zjBatch } = await loadFixture(anchoredFixture);
      const before = await registry.getAnchor(ZJ_EDU, zjBatch.root);
      for (const [count, type] of [
        [1024, DIPLOMA],
        [7, DEGREE],
      ] as const) {
        await expect(registry.connect(zjEdu).anchor(zjBatch.root, count, type))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryRootAlreadyAnchored")
          .withArgs(ZJ_EDU, zjBatch.root);
      }
      expect(await registry.getAnchor(ZJ_EDU, zjBatch.root)).to.deep.equal(before);
    });
  });

  describe("front-running: anchors are keyed by (issuer, root)", function () {
    it("B anchors A's root first: A's anchor still succeeds, and each anchor is its issuer's", async function () {
      const { registry, zjEdu, jsEdu } = await loadFixture(issuersFixture);
      const batch = batches().zj1024; // ZJ-EDU's batch; JS-EDU may also issue DIPLOMA
      // JS-EDU copies ZJ-EDU's pending transaction and gets it mined first.
      await expect(registry.connect(jsEdu).anchor(batch.root, batch.leafCount, DIPLOMA))
        .to.emit(registry, "RootAnchored")
        .withArgs(JS_EDU, batch.root, DIPLOMA, jsEdu.address, batch.leafCount);
      expect((await registry.getAnchor(ZJ_EDU, batch.root)).blockNumber).to.equal(0n);

      const tx = registry.connect(zjEdu).anchor(batch.root, batch.leafCount, DIPLOMA);
      await expect(tx)
        .to.emit(registry, "RootAnchored")
        .withArgs(ZJ_EDU, batch.root, DIPLOMA, zjEdu.address, batch.leafCount);
      const { number } = await blockOf(await mined(tx));
      const ours = await registry.getAnchor(ZJ_EDU, batch.root);
      expect([ours.certType, ours.leafCount, ours.blockNumber]).to.deep.equal([DIPLOMA, 1024n, number]);
      const theirs = await registry.getAnchor(JS_EDU, batch.root);
      expect(theirs.blockNumber).to.be.lessThan(number);
    });

    it("a copy cannot spoil the victim's anchor: other type, other size, revoked copy", async function () {
      const { registry, zjEdu, jsEdu, jsAuthority } = await loadFixture(issuersFixture);
      const batch = batches().zj1024;
      // The copy claims another size and is then revoked by its own province.
      await mined(registry.connect(jsEdu).anchor(batch.root, 1, DIPLOMA));
      await mined(registry.connect(jsAuthority).revokeRoot(JS_EDU, batch.root, 3));
      await mined(registry.connect(zjEdu).anchor(batch.root, batch.leafCount, DIPLOMA));
      expect((await registry.getAnchor(ZJ_EDU, batch.root)).leafCount).to.equal(1024n);
      expect((await registry.rootRevocation(ZJ_EDU, batch.root)).blockNumber).to.equal(0n);
      expect((await registry.rootRevocation(JS_EDU, batch.root)).reason).to.equal(3n);
      // The victim's certificates are revocable only as its own.
      const leaf = batch.tree.leaves[3];
      await expect(registry.connect(jsEdu).revokeCertificate(ZJ_EDU, batch.root, leaf, batch.tree.proof(3), 1))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNotRevoker")
        .withArgs(jsEdu.address, ZJ_EDU, batch.root);
    });

    it("the copier revoking a leaf of its copy (with a valid proof) leaves the victim's leaf alone", async function () {
      const { registry, jsEdu, zjEdu, zjBatch } = await loadFixture(anchoredFixture);
      await mined(registry.connect(jsEdu).anchor(zjBatch.root, zjBatch.leafCount, DIPLOMA));
      const leaf = zjBatch.tree.leaves[42];
      const proof = zjBatch.tree.proof(42);
      await expect(registry.connect(jsEdu).revokeCertificate(JS_EDU, zjBatch.root, leaf, proof, 2))
        .to.emit(registry, "CertificateRevoked")
        .withArgs(JS_EDU, zjBatch.root, leaf, jsEdu.address, 2);
      expect((await registry.certificateRevocation(ZJ_EDU, zjBatch.root, leaf)).blockNumber).to.equal(0n);
      // ... and the victim may still revoke its own.
      await expect(registry.connect(zjEdu).revokeCertificate(ZJ_EDU, zjBatch.root, leaf, proof, 3))
        .to.emit(registry, "CertificateRevoked")
        .withArgs(ZJ_EDU, zjBatch.root, leaf, zjEdu.address, 3);
    });

    it("the victim anchoring first still leaves the copier its own (useless) anchor", async function () {
      const { registry, jsEdu, zjBatch } = await loadFixture(anchoredFixture);
      await expect(registry.connect(jsEdu).anchor(zjBatch.root, zjBatch.leafCount, DIPLOMA))
        .to.emit(registry, "RootAnchored")
        .withArgs(JS_EDU, zjBatch.root, DIPLOMA, jsEdu.address, zjBatch.leafCount);
      expect((await registry.getAnchor(ZJ_EDU, zjBatch.root)).leafCount).to.equal(1024n);
    });
  });

  it("never rewrites an earlier anchor when the issuer is later suspended, restricted, rotated or revoked", async function () {
    const { registry, admin, zjAuthority, zjBatch, spare } = await loadFixture(anchoredFixture);
    const read = async () => {
      const a = await registry.getAnchor(ZJ_EDU, zjBatch.root);
      return [a.certType, a.leafCount, a.blockNumber, a.timestamp];
    };
    const before = await read();
    expect(before[0]).to.equal(DIPLOMA);
    expect(before[2]).to.be.greaterThan(0n);

    const zj = registry.connect(zjAuthority);
    await mined(zj.suspendIssuer(ZJ_EDU));
    expect(await read()).to.deep.equal(before);
    await mined(zj.setIssuerCertType(ZJ_EDU, DIPLOMA, false));
    await mined(zj.rotateIssuerAccount(ZJ_EDU, spare[0].address));
    await mined(zj.rotateSealCertificate(ZJ_EDU, fingerprint("ZJ-EDU:2"), CA.zj));
    await mined(zj.revokeSealCertificate(ZJ_EDU, fingerprint("ZJ-EDU:2"), 1n, 2));
    await mined(registry.connect(admin).distrustProvinceCa(ZJ, CA.zj, 1n, 2));
    await mined(zj.setProvinceAuthority(ZJ, spare[1].address));
    await networkHelpers.mine(10);
    expect(await read()).to.deep.equal(before);
    expect(await registry.isAuthorised(ZJ_EDU, DIPLOMA)).to.equal(false);
  });

  it("costs the same whatever the batch size (leafCount 1, 1,024, 65,536)", async function () {
    const { registry, zjEdu } = await loadFixture(issuersFixture);
    const rows: { leafCount: number; gasUsed: bigint; executionGas: bigint }[] = [];
    for (const leafCount of [1, 1024, 65536]) {
      // The contract never reads the leaves, so a stand-in root serves for every size. Roots
      // without zero bytes make the calldata of the three calls cost the same (each leafCount
      // has exactly one non-zero byte), so the totals themselves must match.
      const batchRoot = rootWithoutZeroBytes(`batch-of-${leafCount}`);
      const tx = await registry.connect(zjEdu).anchor(batchRoot, leafCount, DIPLOMA);
      const receipt = await tx.wait();
      if (receipt === null) throw new Error("not mined");
      // Gas beyond the intrinsic cost, which depends only on the calldata bytes.
      const executionGas = receipt.gasUsed - INTRINSIC_TX_GAS - calldataGas(tx.data);
      rows.push({ leafCount, gasUsed: receipt.gasUsed, executionGas });
      expect((await registry.getAnchor(ZJ_EDU, batchRoot)).leafCount).to.equal(BigInt(leafCount));
    }
    const shown = JSON.stringify(rows, (_, v) => (typeof v === "bigint" ? Number(v) : v));
    const totals = rows.map((r) => r.gasUsed);
    const spread = totals.reduce((a, b) => (a > b ? a : b)) - totals.reduce((a, b) => (a < b ? a : b));
    expect(spread, shown).to.be.at.most(4n);
    expect(rows[1].executionGas, shown).to.equal(rows[0].executionGas);
    expect(rows[2].executionGas, shown).to.equal(rows[0].executionGas);
  });

  it("stays under 60 gas per certificate for a batch of 1,024 (as the contract documents)", async function () {
    const { registry, jsEdu } = await loadFixture(issuersFixture);
    const receipt = await mined(registry.connect(jsEdu).anchor(batches().zj1024.root, 1024, DIPLOMA));
    expect(receipt.gasUsed).to.be.lessThan(60n * 1024n);
    expect((await registry.getAnchor(JS_EDU, batches().zj1024.root)).leafCount).to.equal(1024n);
  });
});
