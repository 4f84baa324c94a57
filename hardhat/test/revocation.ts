import { expect } from "chai";

import {
  DIPLOMA,
  JS_EDU,
  UNKNOWN_ISSUER,
  ZERO32,
  ZJ,
  ZJ_EDU,
  ZJ_MARKET,
  anchoredFixture,
  blockOf,
  ethers,
  mined,
  networkHelpers,
} from "./fixtures.js";
import { flipBit } from "./merkle.js";

const { loadFixture } = networkHelpers;

const UNKNOWN_ROOT = ethers.keccak256(ethers.toUtf8Bytes("root:never anchored"));

/** Fields of a Revocation struct as plain values. */
const fields = (r: { reason: bigint; blockNumber: bigint; timestamp: bigint }) => [
  r.reason,
  r.blockNumber,
  r.timestamp,
];

describe("Revocation", function () {
  describe("revokeRoot", function () {
    it("lets the anchoring issuer revoke its batch: RootRevoked and rootRevocation", async function () {
      const { registry, zjEdu, zjBatch, jsBatch } = await loadFixture(anchoredFixture);
      expect(fields(await registry.rootRevocation(zjBatch.issuerId, zjBatch.root))).to.deep.equal([0n, 0n, 0n]);
      const tx = registry.connect(zjEdu).revokeRoot(zjBatch.issuerId, zjBatch.root, 3);
      await expect(tx).to.emit(registry, "RootRevoked").withArgs(zjBatch.issuerId, zjBatch.root, zjEdu.address, 3);
      const { number, timestamp } = await blockOf(await mined(tx));
      expect(fields(await registry.rootRevocation(zjBatch.issuerId, zjBatch.root))).to.deep.equal([
        3n,
        number,
        timestamp,
      ]);
      // Only that batch, and no single certificate record is written.
      expect(fields(await registry.rootRevocation(jsBatch.issuerId, jsBatch.root))).to.deep.equal([0n, 0n, 0n]);
      expect(
        fields(await registry.certificateRevocation(zjBatch.issuerId, zjBatch.root, zjBatch.tree.leaves[0])),
      ).to.deep.equal([0n, 0n, 0n]);
      // The anchor itself is untouched.
      expect((await registry.getAnchor(ZJ_EDU, zjBatch.root)).leafCount).to.equal(1024n);
    });

    it("lets the issuer's province authority revoke the batch", async function () {
      const { registry, zjAuthority, zjBatch } = await loadFixture(anchoredFixture);
      await expect(registry.connect(zjAuthority).revokeRoot(zjBatch.issuerId, zjBatch.root, 7))
        .to.emit(registry, "RootRevoked")
        .withArgs(zjBatch.issuerId, zjBatch.root, zjAuthority.address, 7);
      expect((await registry.rootRevocation(zjBatch.issuerId, zjBatch.root)).reason).to.equal(7n);
    });

    it("refuses a root the issuer never anchored: unknown, another issuer's, an unknown issuer", async function () {
      const { registry, zjEdu, zjAuthority, jsBatch, zjBatch } = await loadFixture(anchoredFixture);
      for (const caller of [zjEdu, zjAuthority]) {
        for (const [issuer, root] of [
          [ZJ_EDU, UNKNOWN_ROOT],
          [ZJ_EDU, jsBatch.root], // JS-EDU's root, asked for as ZJ-EDU's
          [ZJ_MARKET, zjBatch.root], // ZJ-EDU's root, asked for as ZJ-MARKET's
          [UNKNOWN_ISSUER, zjBatch.root],
        ]) {
          await expect(registry.connect(caller).revokeRoot(issuer, root, 1))
            .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownRoot")
            .withArgs(issuer, root);
        }
      }
    });

    it("refuses a root already revoked, whoever revoked it first", async function () {
      const { registry, zjEdu, zjAuthority, zjBatch } = await loadFixture(anchoredFixture);
      await mined(registry.connect(zjEdu).revokeRoot(zjBatch.issuerId, zjBatch.root, 4));
      for (const caller of [zjEdu, zjAuthority]) {
        await expect(registry.connect(caller).revokeRoot(zjBatch.issuerId, zjBatch.root, 2))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryAlreadyRevoked")
          .withArgs(zjBatch.issuerId, zjBatch.root, ZERO32);
      }
      expect((await registry.rootRevocation(zjBatch.issuerId, zjBatch.root)).reason).to.equal(4n);
    });
  });

  describe("revokeCertificate", function () {
    it("lets the anchoring issuer revoke one certificate with a 10-level proof", async function () {
      const { registry, zjEdu, zjBatch } = await loadFixture(anchoredFixture);
      const leaf = zjBatch.tree.leaves[137];
      const proof = zjBatch.tree.proof(137);
      expect(proof).to.have.length(10);
      const tx = registry.connect(zjEdu).revokeCertificate(zjBatch.issuerId, zjBatch.root, leaf, proof, 2);
      await expect(tx)
        .to.emit(registry, "CertificateRevoked")
        .withArgs(zjBatch.issuerId, zjBatch.root, leaf, zjEdu.address, 2);
      const { number, timestamp } = await blockOf(await mined(tx));
      expect(fields(await registry.certificateRevocation(zjBatch.issuerId, zjBatch.root, leaf))).to.deep.equal([
        2n,
        number,
        timestamp,
      ]);
      // Its neighbours and the batch stay valid.
      for (const other of [136, 138]) {
        expect(
          fields(await registry.certificateRevocation(zjBatch.issuerId, zjBatch.root, zjBatch.tree.leaves[other])),
        ).to.deep.equal([0n, 0n, 0n]);
      }
      expect(fields(await registry.rootRevocation(zjBatch.issuerId, zjBatch.root))).to.deep.equal([0n, 0n, 0n]);
    });

    it("lets the province authority revoke one certificate, including the odd leaf of an odd tree", async function () {
      const { registry, jsAuthority, jsBatch } = await loadFixture(anchoredFixture);
      // Leaf 4 of 5 moves up unchanged twice: its proof has a single sibling.
      const leaf = jsBatch.tree.leaves[4];
      const proof = jsBatch.tree.proof(4);
      expect(proof).to.have.length(1);
      await expect(registry.connect(jsAuthority).revokeCertificate(jsBatch.issuerId, jsBatch.root, leaf, proof, 6))
        .to.emit(registry, "CertificateRevoked")
        .withArgs(jsBatch.issuerId, jsBatch.root, leaf, jsAuthority.address, 6);
      expect((await registry.certificateRevocation(jsBatch.issuerId, jsBatch.root, leaf)).reason).to.equal(6n);
    });

    it("accepts every reason from 1 to MAX_REVOCATION_REASON", async function () {
      const { registry, zjEdu, zjBatch } = await loadFixture(anchoredFixture);
      const max = Number(await registry.MAX_REVOCATION_REASON());
      expect(max).to.equal(7);
      for (let reason = 1; reason <= max; reason++) {
        const index = 100 * reason;
        const leaf = zjBatch.tree.leaves[index];
        await mined(
          registry
            .connect(zjEdu)
            .revokeCertificate(zjBatch.issuerId, zjBatch.root, leaf, zjBatch.tree.proof(index), reason),
        );
        expect((await registry.certificateRevocation(zjBatch.issuerId, zjBatch.root, leaf)).reason).to.equal(
          BigInt(reason),
        );
      }
    });

    it("refuses an unknown root", async function () {
      const { registry, zjEdu, zjBatch } = await loadFixture(anchoredFixture);
      await expect(
        registry
          .connect(zjEdu)
          .revokeCertificate(ZJ_EDU, UNKNOWN_ROOT, zjBatch.tree.leaves[0], zjBatch.tree.proof(0), 1),
      )
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownRoot")
        .withArgs(ZJ_EDU, UNKNOWN_ROOT);
      // Its own root, named as another issuer's.
      await expect(
        registry
          .connect(zjEdu)
          .revokeCertificate(JS_EDU, zjBatch.root, zjBatch.tree.leaves[0], zjBatch.tree.proof(0), 1),
      )
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownRoot")
        .withArgs(JS_EDU, zjBatch.root);
    });

    it("refuses a proof that does not place the leaf under the root (LeafNotInRoot)", async function () {
      const { registry, zjEdu, zjBatch, jsBatch } = await loadFixture(anchoredFixture);
      const { root, tree } = zjBatch;
      const leaf = tree.leaves[137];
      const proof = tree.proof(137);
      const attempts: [string, string[]][] = [
        [leaf, proof.map((p, i) => (i === 4 ? flipBit(p) : p))], // corrupted sibling
        [leaf, proof.slice(0, -1)], // truncated
        [leaf, []], // empty
        [leaf, tree.proof(138)], // another leaf's proof
        [jsBatch.tree.leaves[0], jsBatch.tree.proof(0)], // a leaf of another batch
        [flipBit(leaf), proof], // a leaf that is not in the tree
      ];
      for (const [badLeaf, badProof] of attempts) {
        await expect(registry.connect(zjEdu).revokeCertificate(ZJ_EDU, root, badLeaf, badProof, 1))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryLeafNotInRoot")
          .withArgs(root, badLeaf);
      }
    });

    it("refuses a certificate already revoked, whoever revoked it first", async function () {
      const { registry, zjEdu, zjAuthority, zjBatch } = await loadFixture(anchoredFixture);
      const leaf = zjBatch.tree.leaves[5];
      const proof = zjBatch.tree.proof(5);
      await mined(registry.connect(zjAuthority).revokeCertificate(zjBatch.issuerId, zjBatch.root, leaf, proof, 3));
      for (const caller of [zjEdu, zjAuthority]) {
        await expect(registry.connect(caller).revokeCertificate(zjBatch.issuerId, zjBatch.root, leaf, proof, 1))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryAlreadyRevoked")
          .withArgs(zjBatch.issuerId, zjBatch.root, leaf);
      }
      expect((await registry.certificateRevocation(zjBatch.issuerId, zjBatch.root, leaf)).reason).to.equal(3n);
    });
  });

  describe("who may revoke", function () {
    it("refuses other issuers, other provinces' authorities, the admin and outsiders (NotRevoker)", async function () {
      const { registry, admin, zjAuthority, jsAuthority, gdAuthority, zjMarket, jsEdu, outsider, zjBatch, jsBatch } =
        await loadFixture(anchoredFixture);
      const leaf = zjBatch.tree.leaves[1];
      const proof = zjBatch.tree.proof(1);
      // zjMarket: another issuer of the same province; jsEdu: an issuer elsewhere.
      for (const caller of [zjMarket, jsEdu, jsAuthority, gdAuthority, admin, outsider]) {
        await expect(registry.connect(caller).revokeRoot(zjBatch.issuerId, zjBatch.root, 1))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryNotRevoker")
          .withArgs(caller.address, zjBatch.issuerId, zjBatch.root);
        await expect(registry.connect(caller).revokeCertificate(zjBatch.issuerId, zjBatch.root, leaf, proof, 1))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryNotRevoker")
          .withArgs(caller.address, zjBatch.issuerId, zjBatch.root);
      }
      // ... and the ZJ authority cannot touch a JS batch.
      await expect(registry.connect(zjAuthority).revokeRoot(jsBatch.issuerId, jsBatch.root, 1))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNotRevoker")
        .withArgs(zjAuthority.address, jsBatch.issuerId, jsBatch.root);
      expect(fields(await registry.rootRevocation(zjBatch.issuerId, zjBatch.root))).to.deep.equal([0n, 0n, 0n]);
    });

    it("refuses a suspended issuer, while its province authority still may revoke", async function () {
      const { registry, zjAuthority, zjEdu, zjBatch } = await loadFixture(anchoredFixture);
      await mined(registry.connect(zjAuthority).suspendIssuer(ZJ_EDU));
      const leaf = zjBatch.tree.leaves[9];
      const proof = zjBatch.tree.proof(9);
      await expect(registry.connect(zjEdu).revokeRoot(zjBatch.issuerId, zjBatch.root, 1))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNotRevoker")
        .withArgs(zjEdu.address, zjBatch.issuerId, zjBatch.root);
      await expect(registry.connect(zjEdu).revokeCertificate(zjBatch.issuerId, zjBatch.root, leaf, proof, 1))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNotRevoker")
        .withArgs(zjEdu.address, zjBatch.issuerId, zjBatch.root);
      await expect(registry.connect(zjAuthority).revokeCertificate(zjBatch.issuerId, zjBatch.root, leaf, proof, 2))
        .to.emit(registry, "CertificateRevoked")
        .withArgs(zjBatch.issuerId, zjBatch.root, leaf, zjAuthority.address, 2);
      await expect(registry.connect(zjAuthority).revokeRoot(zjBatch.issuerId, zjBatch.root, 2))
        .to.emit(registry, "RootRevoked")
        .withArgs(zjBatch.issuerId, zjBatch.root, zjAuthority.address, 2);
    });

    it("follows key rotation: the issuer's new account and the province's new authority", async function () {
      const { registry, admin, zjAuthority, zjEdu, zjBatch, spare } = await loadFixture(anchoredFixture);
      const [newAccount, newAuthority] = spare;
      await mined(registry.connect(zjAuthority).rotateIssuerAccount(ZJ_EDU, newAccount.address));
      await mined(registry.connect(admin).proposeProvinceAuthority(ZJ, newAuthority.address));
      await mined(registry.connect(zjAuthority).acceptProvinceAuthority(ZJ, newAuthority.address));
      const leaf = zjBatch.tree.leaves[0];
      const proof = zjBatch.tree.proof(0);
      for (const old of [zjEdu, zjAuthority]) {
        await expect(registry.connect(old).revokeCertificate(zjBatch.issuerId, zjBatch.root, leaf, proof, 1))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryNotRevoker")
          .withArgs(old.address, zjBatch.issuerId, zjBatch.root);
      }
      await expect(registry.connect(newAccount).revokeCertificate(zjBatch.issuerId, zjBatch.root, leaf, proof, 1))
        .to.emit(registry, "CertificateRevoked")
        .withArgs(zjBatch.issuerId, zjBatch.root, leaf, newAccount.address, 1);
      await expect(registry.connect(newAuthority).revokeRoot(zjBatch.issuerId, zjBatch.root, 5))
        .to.emit(registry, "RootRevoked")
        .withArgs(zjBatch.issuerId, zjBatch.root, newAuthority.address, 5);
    });

    it("still lets the issuer revoke after the type was withdrawn from it", async function () {
      const { registry, zjAuthority, zjEdu, zjBatch } = await loadFixture(anchoredFixture);
      await mined(registry.connect(zjAuthority).setIssuerCertType(ZJ_EDU, DIPLOMA, false));
      await expect(registry.connect(zjEdu).revokeRoot(zjBatch.issuerId, zjBatch.root, 4))
        .to.emit(registry, "RootRevoked")
        .withArgs(zjBatch.issuerId, zjBatch.root, zjEdu.address, 4);
    });
  });

  describe("reason codes", function () {
    for (const reason of [0, 8, 255]) {
      it(`refuses reason ${reason} (InvalidReason) for a batch and for a certificate`, async function () {
        const { registry, zjEdu, jsAuthority, zjBatch, jsBatch } = await loadFixture(anchoredFixture);
        await expect(registry.connect(zjEdu).revokeRoot(zjBatch.issuerId, zjBatch.root, reason))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryInvalidReason")
          .withArgs(reason);
        await expect(
          registry
            .connect(jsAuthority)
            .revokeCertificate(jsBatch.issuerId, jsBatch.root, jsBatch.tree.leaves[2], jsBatch.tree.proof(2), reason),
        )
          .to.be.revertedWithCustomError(registry, "CertificateRegistryInvalidReason")
          .withArgs(reason);
        expect((await registry.rootRevocation(zjBatch.issuerId, zjBatch.root)).blockNumber).to.equal(0n);
        expect(
          (await registry.certificateRevocation(jsBatch.issuerId, jsBatch.root, jsBatch.tree.leaves[2])).blockNumber,
        ).to.equal(0n);
      });
    }
  });

  it("keeps the issuer recorded on a batch revoked by its authority", async function () {
    const { registry, jsAuthority, jsBatch } = await loadFixture(anchoredFixture);
    await mined(registry.connect(jsAuthority).revokeRoot(jsBatch.issuerId, jsBatch.root, 1));
    expect((await registry.getAnchor(JS_EDU, jsBatch.root)).leafCount).to.equal(5n);
  });
});
