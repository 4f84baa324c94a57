import { expect } from "chai";

import {
  CA,
  DEGREE,
  DIPLOMA,
  IssuerStatus,
  JS,
  JS_EDU,
  LICENCE,
  SH,
  TRANSCRIPT,
  UNKNOWN_ISSUER,
  ZERO16,
  ZERO32,
  ZERO_ADDRESS,
  ZJ,
  ZJ_EDU,
  ZJ_MARKET,
  b32,
  blockOf,
  caFingerprint,
  ethers,
  eventNames,
  fingerprint,
  issuersFixture,
  mined,
  networkHelpers,
  provincesFixture,
} from "./fixtures.js";

const { loadFixture } = networkHelpers;

const NEW_ID = b32("ZJ-HEALTH");
const root = (label: string) => ethers.keccak256(ethers.toUtf8Bytes(`root:${label}`));

describe("Issuers", function () {
  describe("registerIssuer", function () {
    it("registers an issuer with its types, emitting IssuerRegistered then one grant per type", async function () {
      const { registry, zjAuthority, spare } = await loadFixture(provincesFixture);
      const account = spare[0].address;
      const fp = fingerprint("ZJ-HEALTH:1");
      const tx = registry
        .connect(zjAuthority)
        .registerIssuer(ZJ, NEW_ID, account, "Zhejiang Health Commission", fp, CA.zj, [DIPLOMA, DEGREE]);
      await expect(tx)
        .to.emit(registry, "IssuerRegistered")
        .withArgs(NEW_ID, ZJ, account, "Zhejiang Health Commission", fp, CA.zj);
      await expect(tx).to.emit(registry, "IssuerCertTypeGranted").withArgs(NEW_ID, DIPLOMA);
      await expect(tx).to.emit(registry, "IssuerCertTypeGranted").withArgs(NEW_ID, DEGREE);
      const receipt = await mined(tx);
      expect(eventNames(registry, receipt)).to.deep.equal([
        "IssuerRegistered",
        "IssuerCertTypeGranted",
        "IssuerCertTypeGranted",
      ]);
      const { number } = await blockOf(receipt);

      const issuer = await registry.getIssuer(NEW_ID);
      expect(issuer.account).to.equal(account);
      expect(issuer.status).to.equal(IssuerStatus.Active);
      expect(issuer.registeredAt).to.equal(number);
      expect(issuer.issuerId).to.equal(NEW_ID);
      expect(issuer.provinceCode).to.equal(ZJ);
      expect(issuer.sealCertFingerprint).to.equal(fp);
      expect(issuer.name).to.equal("Zhejiang Health Commission");

      expect(await registry.issuerCount()).to.equal(1n);
      expect(await registry.issuerIdAt(0)).to.equal(NEW_ID);
      expect(await registry.issuerOfAccount(account)).to.equal(NEW_ID);
      expect(await registry.issuerCertTypes(NEW_ID))
        .to.have.members([DIPLOMA, DEGREE])
        .and.have.length(2);
      expect(await registry.isAuthorised(NEW_ID, DIPLOMA)).to.equal(true);
      expect(await registry.isAuthorised(NEW_ID, DEGREE)).to.equal(true);
      expect(await registry.isAuthorised(NEW_ID, LICENCE)).to.equal(false);
      const seal = await registry.sealCertificate(fp);
      expect([seal.issuerId, seal.caFingerprint, seal.fromBlock, seal.untilBlock]).to.deep.equal([
        NEW_ID,
        CA.zj,
        number,
        0n,
      ]);
    });

    it("accepts an issuer with no types yet (it cannot anchor until granted one)", async function () {
      const { registry, zjAuthority, spare } = await loadFixture(provincesFixture);
      const receipt = await mined(
        registry
          .connect(zjAuthority)
          .registerIssuer(ZJ, NEW_ID, spare[0].address, "Health", fingerprint("H"), CA.zj, []),
      );
      expect(eventNames(registry, receipt)).to.deep.equal(["IssuerRegistered"]);
      expect(await registry.issuerCertTypes(NEW_ID)).to.deep.equal([]);
      expect(await registry.isAuthorised(NEW_ID, DIPLOMA)).to.equal(false);
      await expect(registry.connect(spare[0]).anchor(root("a"), 1, DIPLOMA))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryCertTypeNotAllowed")
        .withArgs(NEW_ID, DIPLOMA);
    });

    it("enumerates issuers in registration order and answers zero for unknown ones", async function () {
      const { registry, zjEdu, zjMarket, jsEdu, outsider } = await loadFixture(issuersFixture);
      expect(await registry.issuerCount()).to.equal(3n);
      expect(await registry.issuerIdAt(0)).to.equal(ZJ_EDU);
      expect(await registry.issuerIdAt(1)).to.equal(ZJ_MARKET);
      expect(await registry.issuerIdAt(2)).to.equal(JS_EDU);
      await expect(registry.issuerIdAt(3))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownIssuer")
        .withArgs(ZERO32);
      expect(await registry.issuerOfAccount(zjEdu.address)).to.equal(ZJ_EDU);
      expect(await registry.issuerOfAccount(zjMarket.address)).to.equal(ZJ_MARKET);
      expect(await registry.issuerOfAccount(jsEdu.address)).to.equal(JS_EDU);
      expect(await registry.issuerOfAccount(outsider.address)).to.equal(ZERO32);
      expect((await registry.getIssuer(JS_EDU)).provinceCode).to.equal(JS);
      expect(await registry.isAuthorised(UNKNOWN_ISSUER, DIPLOMA)).to.equal(false);
      const unknownSeal = await registry.sealCertificate(fingerprint("never used"));
      expect([
        unknownSeal.issuerId,
        unknownSeal.caFingerprint,
        unknownSeal.fromBlock,
        unknownSeal.untilBlock,
      ]).to.deep.equal([ZERO32, ZERO32, 0n, 0n]);
      await expect(registry.getIssuer(UNKNOWN_ISSUER))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownIssuer")
        .withArgs(UNKNOWN_ISSUER);
      await expect(registry.issuerCertTypes(UNKNOWN_ISSUER))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownIssuer")
        .withArgs(UNKNOWN_ISSUER);
    });

    it("is refused for another province, to outsiders and to the consortium admin", async function () {
      const { registry, zjAuthority, admin, outsider, spare } = await loadFixture(issuersFixture);
      const attempt = (caller: typeof admin, province: string) =>
        expect(
          registry
            .connect(caller)
            .registerIssuer(province, NEW_ID, spare[0].address, "X", fingerprint("X"), CA.zj, [DIPLOMA]),
        )
          .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
          .withArgs(caller.address, province);
      await attempt(zjAuthority, JS);
      await attempt(outsider, ZJ);
      await attempt(admin, ZJ);
      expect(await registry.issuerCount()).to.equal(3n);
    });

    it("refuses an unknown province", async function () {
      const { registry, zjAuthority, spare } = await loadFixture(issuersFixture);
      await expect(
        registry
          .connect(zjAuthority)
          .registerIssuer(SH, NEW_ID, spare[0].address, "X", fingerprint("X"), CA.zj, [DIPLOMA]),
      )
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownProvince")
        .withArgs(SH);
    });

    it("refuses a zero or duplicate issuer id", async function () {
      const { registry, zjAuthority, jsAuthority, spare } = await loadFixture(issuersFixture);
      await expect(
        registry
          .connect(zjAuthority)
          .registerIssuer(ZJ, ZERO32, spare[0].address, "X", fingerprint("X"), CA.zj, [DIPLOMA]),
      ).to.be.revertedWithCustomError(registry, "CertificateRegistryInvalidCode");
      await expect(
        registry
          .connect(zjAuthority)
          .registerIssuer(ZJ, ZJ_EDU, spare[0].address, "X", fingerprint("X"), CA.zj, [DIPLOMA]),
      )
        .to.be.revertedWithCustomError(registry, "CertificateRegistryIssuerExists")
        .withArgs(ZJ_EDU);
      // Ids are global: another province cannot reuse one either.
      await expect(
        registry
          .connect(jsAuthority)
          .registerIssuer(JS, ZJ_EDU, spare[0].address, "X", fingerprint("X"), CA.js, [DIPLOMA]),
      )
        .to.be.revertedWithCustomError(registry, "CertificateRegistryIssuerExists")
        .withArgs(ZJ_EDU);
    });

    it("refuses a zero account or one already acting for an issuer", async function () {
      const { registry, zjAuthority, jsEdu } = await loadFixture(issuersFixture);
      await expect(
        registry.connect(zjAuthority).registerIssuer(ZJ, NEW_ID, ZERO_ADDRESS, "X", fingerprint("X"), CA.zj, [DIPLOMA]),
      )
        .to.be.revertedWithCustomError(registry, "CertificateRegistryInvalidAccount")
        .withArgs(ZERO_ADDRESS);
      await expect(
        registry
          .connect(zjAuthority)
          .registerIssuer(ZJ, NEW_ID, jsEdu.address, "X", fingerprint("X"), CA.zj, [DIPLOMA]),
      )
        .to.be.revertedWithCustomError(registry, "CertificateRegistryAccountInUse")
        .withArgs(jsEdu.address);
    });

    it("refuses a zero seal or CA fingerprint, or a seal fingerprint already on record", async function () {
      const { registry, zjAuthority, fingerprints, spare } = await loadFixture(issuersFixture);
      const register = (fp: string, ca: string = CA.zj) =>
        registry.connect(zjAuthority).registerIssuer(ZJ, NEW_ID, spare[0].address, "X", fp, ca, [DIPLOMA]);
      await expect(register(ZERO32)).to.be.revertedWithCustomError(registry, "CertificateRegistryInvalidFingerprint");
      await expect(register(fingerprint("fresh"), ZERO32)).to.be.revertedWithCustomError(
        registry,
        "CertificateRegistryInvalidFingerprint",
      );
      expect(await registry.issuerCount()).to.equal(3n);
      for (const fp of [fingerprints.zjEdu, fingerprints.jsEdu]) {
        await expect(register(fp))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryFingerprintInUse")
          .withArgs(fp);
      }
    });

    it("refuses a zero or repeated certificate type and leaves no trace", async function () {
      const { registry, zjAuthority, spare } = await loadFixture(issuersFixture);
      const account = spare[0].address;
      const fp = fingerprint("ZJ-HEALTH:1");
      const register = (types: string[]) =>
        registry.connect(zjAuthority).registerIssuer(ZJ, NEW_ID, account, "X", fp, CA.zj, types);
      await expect(register([DIPLOMA, ZERO16])).to.be.revertedWithCustomError(
        registry,
        "CertificateRegistryInvalidCertType",
      );
      await expect(register([DIPLOMA, DEGREE, DIPLOMA]))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryCertTypeUnchanged")
        .withArgs(NEW_ID, DIPLOMA);

      expect(await registry.issuerCount()).to.equal(3n);
      expect(await registry.issuerOfAccount(account)).to.equal(ZERO32);
      expect((await registry.sealCertificate(fp)).issuerId).to.equal(ZERO32);
      await expect(registry.getIssuer(NEW_ID)).to.be.revertedWithCustomError(
        registry,
        "CertificateRegistryUnknownIssuer",
      );
    });
  });

  describe("suspendIssuer / reactivateIssuer", function () {
    it("suspends: IssuerSuspended, status Suspended, no longer authorised, types kept", async function () {
      const { registry, zjAuthority, zjEdu } = await loadFixture(issuersFixture);
      await expect(registry.connect(zjAuthority).suspendIssuer(ZJ_EDU))
        .to.emit(registry, "IssuerSuspended")
        .withArgs(ZJ_EDU, zjAuthority.address);
      expect((await registry.getIssuer(ZJ_EDU)).status).to.equal(IssuerStatus.Suspended);
      expect(await registry.isAuthorised(ZJ_EDU, DIPLOMA)).to.equal(false);
      expect(await registry.issuerCertTypes(ZJ_EDU)).to.have.members([DIPLOMA, DEGREE]);
      expect(await registry.issuerOfAccount(zjEdu.address)).to.equal(ZJ_EDU);
      // Other issuers are untouched.
      expect(await registry.isAuthorised(ZJ_MARKET, LICENCE)).to.equal(true);
    });

    it("reactivates: IssuerReactivated, status Active, can anchor again", async function () {
      const { registry, zjAuthority, zjEdu } = await loadFixture(issuersFixture);
      await mined(registry.connect(zjAuthority).suspendIssuer(ZJ_EDU));
      await expect(registry.connect(zjEdu).anchor(root("s"), 1, DIPLOMA))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryIssuerNotActive")
        .withArgs(ZJ_EDU);
      await expect(registry.connect(zjAuthority).reactivateIssuer(ZJ_EDU))
        .to.emit(registry, "IssuerReactivated")
        .withArgs(ZJ_EDU, zjAuthority.address);
      expect((await registry.getIssuer(ZJ_EDU)).status).to.equal(IssuerStatus.Active);
      expect(await registry.isAuthorised(ZJ_EDU, DIPLOMA)).to.equal(true);
      await expect(registry.connect(zjEdu).anchor(root("s"), 1, DIPLOMA)).to.emit(registry, "RootAnchored");
    });

    it("are refused to another province's authority, the admin and the issuer itself", async function () {
      const { registry, admin, zjAuthority, jsAuthority, zjEdu } = await loadFixture(issuersFixture);
      for (const caller of [jsAuthority, admin, zjEdu]) {
        await expect(registry.connect(caller).suspendIssuer(ZJ_EDU))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
          .withArgs(caller.address, ZJ);
      }
      await mined(registry.connect(zjAuthority).suspendIssuer(ZJ_EDU));
      for (const caller of [jsAuthority, admin, zjEdu]) {
        await expect(registry.connect(caller).reactivateIssuer(ZJ_EDU))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
          .withArgs(caller.address, ZJ);
      }
      expect((await registry.getIssuer(ZJ_EDU)).status).to.equal(IssuerStatus.Suspended);
    });

    it("refuse a repeated suspension or reactivation and unknown issuers", async function () {
      const { registry, zjAuthority } = await loadFixture(issuersFixture);
      const zj = registry.connect(zjAuthority);
      await expect(zj.reactivateIssuer(ZJ_EDU))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryIssuerAlreadyActive")
        .withArgs(ZJ_EDU);
      await mined(zj.suspendIssuer(ZJ_EDU));
      await expect(zj.suspendIssuer(ZJ_EDU))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryIssuerNotActive")
        .withArgs(ZJ_EDU);
      await expect(zj.suspendIssuer(UNKNOWN_ISSUER))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownIssuer")
        .withArgs(UNKNOWN_ISSUER);
      await expect(zj.reactivateIssuer(UNKNOWN_ISSUER))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownIssuer")
        .withArgs(UNKNOWN_ISSUER);
    });
  });

  describe("rotateIssuerAccount", function () {
    it("moves the issuer to a new account; the old one can no longer anchor", async function () {
      const { registry, zjAuthority, zjEdu, spare } = await loadFixture(issuersFixture);
      const next = spare[0];
      await expect(registry.connect(zjAuthority).rotateIssuerAccount(ZJ_EDU, next.address))
        .to.emit(registry, "IssuerAccountRotated")
        .withArgs(ZJ_EDU, zjEdu.address, next.address);
      expect((await registry.getIssuer(ZJ_EDU)).account).to.equal(next.address);
      expect(await registry.issuerOfAccount(zjEdu.address)).to.equal(ZERO32);
      expect(await registry.issuerOfAccount(next.address)).to.equal(ZJ_EDU);

      await expect(registry.connect(zjEdu).anchor(root("r"), 1, DIPLOMA))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNotAnIssuer")
        .withArgs(zjEdu.address);
      await expect(registry.connect(next).anchor(root("r"), 1, DIPLOMA))
        .to.emit(registry, "RootAnchored")
        .withArgs(ZJ_EDU, root("r"), DIPLOMA, next.address, 1);
      expect((await registry.getAnchor(ZJ_EDU, root("r"))).leafCount).to.equal(1n);
    });

    it("frees the old account, which may then serve another issuer", async function () {
      const { registry, zjAuthority, zjEdu, spare } = await loadFixture(issuersFixture);
      await mined(registry.connect(zjAuthority).rotateIssuerAccount(ZJ_EDU, spare[0].address));
      await mined(
        registry
          .connect(zjAuthority)
          .registerIssuer(ZJ, NEW_ID, zjEdu.address, "Health", fingerprint("H"), CA.zj, [DEGREE]),
      );
      expect(await registry.issuerOfAccount(zjEdu.address)).to.equal(NEW_ID);
      await expect(registry.connect(zjEdu).anchor(root("h"), 2, DEGREE))
        .to.emit(registry, "RootAnchored")
        .withArgs(NEW_ID, root("h"), DEGREE, zjEdu.address, 2);
    });

    it("refuses the wrong authority, an account in use, the zero account and unknown issuers", async function () {
      const { registry, zjAuthority, jsAuthority, zjEdu, jsEdu, spare } = await loadFixture(issuersFixture);
      await expect(registry.connect(jsAuthority).rotateIssuerAccount(ZJ_EDU, spare[0].address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
        .withArgs(jsAuthority.address, ZJ);
      await expect(registry.connect(zjEdu).rotateIssuerAccount(ZJ_EDU, spare[0].address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
        .withArgs(zjEdu.address, ZJ);
      const zj = registry.connect(zjAuthority);
      for (const used of [jsEdu.address, zjEdu.address]) {
        await expect(zj.rotateIssuerAccount(ZJ_EDU, used))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryAccountInUse")
          .withArgs(used);
      }
      await expect(zj.rotateIssuerAccount(ZJ_EDU, ZERO_ADDRESS))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryInvalidAccount")
        .withArgs(ZERO_ADDRESS);
      await expect(zj.rotateIssuerAccount(UNKNOWN_ISSUER, spare[0].address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownIssuer")
        .withArgs(UNKNOWN_ISSUER);
      expect((await registry.getIssuer(ZJ_EDU)).account).to.equal(zjEdu.address);
    });
  });

  describe("rotateSealCertificate", function () {
    it("keeps the history: the old fingerprint gets untilBlock, the new one is current", async function () {
      const { registry, zjAuthority, fingerprints } = await loadFixture(issuersFixture);
      const old = fingerprints.zjEdu;
      const fromBlock = (await registry.sealCertificate(old)).fromBlock;
      await networkHelpers.mine(5);

      const second = fingerprint("ZJ-EDU:2");
      const tx = registry.connect(zjAuthority).rotateSealCertificate(ZJ_EDU, second, CA.zj);
      await expect(tx).to.emit(registry, "IssuerSealCertificateRotated").withArgs(ZJ_EDU, old, second, CA.zj);
      const rotatedAt = (await blockOf(await mined(tx))).number;
      expect(rotatedAt).to.be.greaterThan(fromBlock + 5n);

      let seal = await registry.sealCertificate(old);
      expect([seal.issuerId, seal.fromBlock, seal.untilBlock]).to.deep.equal([ZJ_EDU, fromBlock, rotatedAt]);
      seal = await registry.sealCertificate(second);
      expect([seal.issuerId, seal.fromBlock, seal.untilBlock]).to.deep.equal([ZJ_EDU, rotatedAt, 0n]);
      expect((await registry.getIssuer(ZJ_EDU)).sealCertFingerprint).to.equal(second);

      // A second rotation, to a seal of a renewed province CA, closes the second period and
      // leaves the first one alone; each seal keeps the CA that issued it.
      await networkHelpers.mine(2);
      const third = fingerprint("ZJ-EDU:3");
      const renewedCa = caFingerprint("ZJ:2");
      const rotation = registry.connect(zjAuthority).rotateSealCertificate(ZJ_EDU, third, renewedCa);
      await expect(rotation)
        .to.emit(registry, "IssuerSealCertificateRotated")
        .withArgs(ZJ_EDU, second, third, renewedCa);
      const rotatedAgainAt = (await blockOf(await mined(rotation))).number;
      expect((await registry.sealCertificate(second)).caFingerprint).to.equal(CA.zj);
      expect((await registry.sealCertificate(third)).caFingerprint).to.equal(renewedCa);
      seal = await registry.sealCertificate(old);
      expect([seal.fromBlock, seal.untilBlock]).to.deep.equal([fromBlock, rotatedAt]);
      seal = await registry.sealCertificate(second);
      expect([seal.fromBlock, seal.untilBlock]).to.deep.equal([rotatedAt, rotatedAgainAt]);
      seal = await registry.sealCertificate(third);
      expect([seal.issuerId, seal.fromBlock, seal.untilBlock]).to.deep.equal([ZJ_EDU, rotatedAgainAt, 0n]);
    });

    it("refuses reuse of any fingerprint on record and the zero fingerprint", async function () {
      const { registry, zjAuthority, fingerprints } = await loadFixture(issuersFixture);
      const zj = registry.connect(zjAuthority);
      const second = fingerprint("ZJ-EDU:2");
      await mined(zj.rotateSealCertificate(ZJ_EDU, second, CA.zj));
      // retired (own), current (own), another issuer's
      for (const fp of [fingerprints.zjEdu, second, fingerprints.jsEdu]) {
        await expect(zj.rotateSealCertificate(ZJ_EDU, fp, CA.zj))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryFingerprintInUse")
          .withArgs(fp);
      }
      await expect(zj.rotateSealCertificate(ZJ_EDU, ZERO32, CA.zj)).to.be.revertedWithCustomError(
        registry,
        "CertificateRegistryInvalidFingerprint",
      );
      await expect(zj.rotateSealCertificate(ZJ_EDU, fingerprint("ZJ-EDU:3"), ZERO32)).to.be.revertedWithCustomError(
        registry,
        "CertificateRegistryInvalidFingerprint",
      );
      // The refused attempts changed nothing.
      expect((await registry.sealCertificate(second)).untilBlock).to.equal(0n);
      expect((await registry.getIssuer(ZJ_EDU)).sealCertFingerprint).to.equal(second);
    });

    it("refuses the wrong authority and unknown issuers", async function () {
      const { registry, zjAuthority, jsAuthority, zjEdu } = await loadFixture(issuersFixture);
      for (const caller of [jsAuthority, zjEdu]) {
        await expect(registry.connect(caller).rotateSealCertificate(ZJ_EDU, fingerprint("X"), CA.zj))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
          .withArgs(caller.address, ZJ);
      }
      await expect(registry.connect(zjAuthority).rotateSealCertificate(UNKNOWN_ISSUER, fingerprint("X"), CA.zj))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownIssuer")
        .withArgs(UNKNOWN_ISSUER);
    });
  });

  describe("setIssuerCertType", function () {
    it("grants a type: IssuerCertTypeGranted, listed, authorised, anchor accepted", async function () {
      const { registry, zjAuthority, zjEdu } = await loadFixture(issuersFixture);
      await expect(registry.connect(zjAuthority).setIssuerCertType(ZJ_EDU, TRANSCRIPT, true))
        .to.emit(registry, "IssuerCertTypeGranted")
        .withArgs(ZJ_EDU, TRANSCRIPT);
      expect(await registry.issuerCertTypes(ZJ_EDU))
        .to.have.members([DIPLOMA, DEGREE, TRANSCRIPT])
        .and.length(3);
      expect(await registry.isAuthorised(ZJ_EDU, TRANSCRIPT)).to.equal(true);
      await expect(registry.connect(zjEdu).anchor(root("t"), 3, TRANSCRIPT))
        .to.emit(registry, "RootAnchored")
        .withArgs(ZJ_EDU, root("t"), TRANSCRIPT, zjEdu.address, 3);
    });

    it("withdraws a type: IssuerCertTypeWithdrawn, and anchoring that type is refused", async function () {
      const { registry, zjAuthority, zjEdu } = await loadFixture(issuersFixture);
      await expect(registry.connect(zjAuthority).setIssuerCertType(ZJ_EDU, DEGREE, false))
        .to.emit(registry, "IssuerCertTypeWithdrawn")
        .withArgs(ZJ_EDU, DEGREE);
      expect(await registry.issuerCertTypes(ZJ_EDU)).to.deep.equal([DIPLOMA]);
      expect(await registry.isAuthorised(ZJ_EDU, DEGREE)).to.equal(false);
      await expect(registry.connect(zjEdu).anchor(root("d"), 1, DEGREE))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryCertTypeNotAllowed")
        .withArgs(ZJ_EDU, DEGREE);
      await expect(registry.connect(zjEdu).anchor(root("d"), 1, DIPLOMA)).to.emit(registry, "RootAnchored");
    });

    it("refuses a change that changes nothing, and the zero type", async function () {
      const { registry, zjAuthority } = await loadFixture(issuersFixture);
      const zj = registry.connect(zjAuthority);
      await expect(zj.setIssuerCertType(ZJ_EDU, DIPLOMA, true))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryCertTypeUnchanged")
        .withArgs(ZJ_EDU, DIPLOMA);
      await expect(zj.setIssuerCertType(ZJ_EDU, LICENCE, false))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryCertTypeUnchanged")
        .withArgs(ZJ_EDU, LICENCE);
      await expect(zj.setIssuerCertType(ZJ_EDU, ZERO16, true)).to.be.revertedWithCustomError(
        registry,
        "CertificateRegistryInvalidCertType",
      );
      expect(await registry.issuerCertTypes(ZJ_EDU))
        .to.have.members([DIPLOMA, DEGREE])
        .and.length(2);
    });

    it("refuses the wrong authority and unknown issuers", async function () {
      const { registry, admin, zjAuthority, jsAuthority, zjEdu } = await loadFixture(issuersFixture);
      for (const caller of [jsAuthority, admin, zjEdu]) {
        for (const allowed of [true, false]) {
          await expect(registry.connect(caller).setIssuerCertType(ZJ_EDU, allowed ? TRANSCRIPT : DIPLOMA, allowed))
            .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
            .withArgs(caller.address, ZJ);
        }
      }
      await expect(registry.connect(zjAuthority).setIssuerCertType(UNKNOWN_ISSUER, DIPLOMA, true))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownIssuer")
        .withArgs(UNKNOWN_ISSUER);
    });
  });
});
