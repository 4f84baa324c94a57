import { expect } from "chai";

import {
  DEGREE,
  DIPLOMA,
  JS_EDU,
  LICENCE,
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
    await expect(tx).to.emit(registry, "RootAnchored").withArgs(batch.root, ZJ_EDU, DIPLOMA, zjEdu.address, 1024);
    const { number, timestamp } = await blockOf(await mined(tx));

    const anchor = await registry.getAnchor(batch.root);
    expect(anchor.issuerId).to.equal(ZJ_EDU);
    expect(anchor.certType).to.equal(DIPLOMA);
    expect(anchor.leafCount).to.equal(1024n);
    expect(anchor.blockNumber).to.equal(number);
    expect(anchor.timestamp).to.equal(timestamp);
  });

  it("answers all zero for a root never anchored", async function () {
    const { registry } = await loadFixture(anchoredFixture);
    const anchor = await registry.getAnchor(root("never"));
    expect([anchor.issuerId, anchor.certType, anchor.leafCount, anchor.blockNumber, anchor.timestamp]).to.deep.equal([
      ZERO32,
      ZERO16,
      0n,
      0n,
      0n,
    ]);
  });

  it("stores the largest leafCount a uint32 holds", async function () {
    const { registry, zjEdu } = await loadFixture(issuersFixture);
    await mined(registry.connect(zjEdu).anchor(root("max"), 0xffffffffn, DIPLOMA));
    expect((await registry.getAnchor(root("max"))).leafCount).to.equal(0xffffffffn);
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

    it("refuses a root anchored before, by the same or any other issuer", async function () {
      const { registry, zjEdu, jsEdu, zjBatch } = await loadFixture(anchoredFixture);
      const before = await registry.getAnchor(zjBatch.root);
      await expect(registry.connect(zjEdu).anchor(zjBatch.root, 1024, DIPLOMA))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryRootAlreadyAnchored")
        .withArgs(zjBatch.root);
      await expect(registry.connect(zjEdu).anchor(zjBatch.root, 7, DEGREE))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryRootAlreadyAnchored")
        .withArgs(zjBatch.root);
      await expect(registry.connect(jsEdu).anchor(zjBatch.root, 1024, DIPLOMA))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryRootAlreadyAnchored")
        .withArgs(zjBatch.root);
      expect(await registry.getAnchor(zjBatch.root)).to.deep.equal(before);
    });
  });

  it("never rewrites an earlier anchor when the issuer is later suspended, restricted or rotated", async function () {
    const { registry, admin, zjAuthority, zjBatch, spare } = await loadFixture(anchoredFixture);
    const read = async () => {
      const a = await registry.getAnchor(zjBatch.root);
      return [a.issuerId, a.certType, a.leafCount, a.blockNumber, a.timestamp];
    };
    const before = await read();
    expect(before[0]).to.equal(ZJ_EDU);
    expect(before[3]).to.be.greaterThan(0n);

    const zj = registry.connect(zjAuthority);
    await mined(zj.suspendIssuer(ZJ_EDU));
    expect(await read()).to.deep.equal(before);
    await mined(zj.setIssuerCertType(ZJ_EDU, DIPLOMA, false));
    await mined(zj.rotateIssuerAccount(ZJ_EDU, spare[0].address));
    await mined(zj.rotateSealCertificate(ZJ_EDU, fingerprint("ZJ-EDU:2")));
    await mined(registry.connect(admin).setProvinceAuthority(ZJ, spare[1].address));
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
      expect((await registry.getAnchor(batchRoot)).leafCount).to.equal(BigInt(leafCount));
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
    expect((await registry.getAnchor(batches().zj1024.root)).issuerId).to.equal(JS_EDU);
  });
});
