// Seal certificate revocation (province authority) and province CA distrust (consortium admin),
// each with the time from which certificates anchored are invalid.
import { expect } from "chai";

import {
  CA,
  DIPLOMA,
  GD,
  JS,
  JS_EDU,
  SH,
  UNKNOWN_ISSUER,
  ZERO32,
  ZJ,
  ZJ_EDU,
  ZJ_MARKET,
  blockOf,
  caFingerprint,
  fingerprint,
  issuersFixture,
  mined,
  networkHelpers,
} from "./fixtures.js";

const { loadFixture } = networkHelpers;

const KEY_COMPROMISE = 2;
const SUPERSEDED = 4;
const T = 1_800_000_000n; // a compromise time (2027-01-15)

type Row = { effectiveFrom: bigint; reason: bigint; blockNumber: bigint; timestamp: bigint };
const fields = (r: Row) => [r.effectiveFrom, r.reason, r.blockNumber, r.timestamp];

describe("Seal certificate revocation", function () {
  it("lets the province authority revoke an issuer's current seal: SealCertificateRevoked, sealRevocation", async function () {
    const { registry, zjAuthority, fingerprints } = await loadFixture(issuersFixture);
    const fp = fingerprints.zjEdu;
    const tx = registry.connect(zjAuthority).revokeSealCertificate(ZJ_EDU, fp, T, KEY_COMPROMISE);
    await expect(tx)
      .to.emit(registry, "SealCertificateRevoked")
      .withArgs(ZJ_EDU, fp, T, KEY_COMPROMISE, zjAuthority.address);
    const { number, timestamp } = await blockOf(await mined(tx));
    const revocation = await registry.sealRevocation(fp);
    expect(revocation.issuerId).to.equal(ZJ_EDU);
    expect(fields(revocation)).to.deep.equal([T, BigInt(KEY_COMPROMISE), number, timestamp]);
    // The seal stays on record as it was: revocation is not rotation.
    expect((await registry.getIssuer(ZJ_EDU)).sealCertFingerprint).to.equal(fp);
    expect((await registry.sealCertificate(fp)).untilBlock).to.equal(0n);
    // Other seals are untouched.
    for (const other of [fingerprints.zjMarket, fingerprints.jsEdu, fingerprint("never")]) {
      const none = await registry.sealRevocation(other);
      expect([none.issuerId, ...fields(none)]).to.deep.equal([ZERO32, 0n, 0n, 0n, 0n]);
    }
  });

  it("revokes a seal certificate rotated out earlier", async function () {
    const { registry, zjAuthority, fingerprints } = await loadFixture(issuersFixture);
    const zj = registry.connect(zjAuthority);
    await mined(zj.rotateSealCertificate(ZJ_EDU, fingerprint("ZJ-EDU:2"), CA.zj));
    await expect(zj.revokeSealCertificate(ZJ_EDU, fingerprints.zjEdu, T, SUPERSEDED))
      .to.emit(registry, "SealCertificateRevoked")
      .withArgs(ZJ_EDU, fingerprints.zjEdu, T, SUPERSEDED, zjAuthority.address);
    expect((await registry.sealRevocation(fingerprint("ZJ-EDU:2"))).effectiveFrom).to.equal(0n);
  });

  it("still revokes the seal of a suspended issuer", async function () {
    const { registry, zjAuthority, fingerprints } = await loadFixture(issuersFixture);
    const zj = registry.connect(zjAuthority);
    await mined(zj.suspendIssuer(ZJ_EDU));
    await expect(zj.revokeSealCertificate(ZJ_EDU, fingerprints.zjEdu, T, KEY_COMPROMISE)).to.emit(
      registry,
      "SealCertificateRevoked",
    );
  });

  it("accepts a second revocation only with an earlier effective time (EffectiveTimeNotEarlier)", async function () {
    const { registry, zjAuthority, fingerprints } = await loadFixture(issuersFixture);
    const zj = registry.connect(zjAuthority);
    const fp = fingerprints.zjEdu;
    await mined(zj.revokeSealCertificate(ZJ_EDU, fp, T, SUPERSEDED));
    for (const later of [T, T + 1n, T + 86_400n]) {
      await expect(zj.revokeSealCertificate(ZJ_EDU, fp, later, KEY_COMPROMISE))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryEffectiveTimeNotEarlier")
        .withArgs(fp, T, later);
    }
    // A compromise found to have started earlier: the time moves back, the reason is replaced.
    const earlier = T - 3600n;
    const tx = zj.revokeSealCertificate(ZJ_EDU, fp, earlier, KEY_COMPROMISE);
    await expect(tx)
      .to.emit(registry, "SealCertificateRevoked")
      .withArgs(ZJ_EDU, fp, earlier, KEY_COMPROMISE, zjAuthority.address);
    const { number } = await blockOf(await mined(tx));
    const revocation = await registry.sealRevocation(fp);
    expect([revocation.effectiveFrom, revocation.reason, revocation.blockNumber]).to.deep.equal([
      earlier,
      BigInt(KEY_COMPROMISE),
      number,
    ]);
  });

  it("is refused to anyone but the issuer's province authority", async function () {
    const { registry, admin, jsAuthority, gdAuthority, zjEdu, zjMarket, outsider, fingerprints } =
      await loadFixture(issuersFixture);
    for (const caller of [jsAuthority, gdAuthority, admin, zjEdu, zjMarket, outsider]) {
      await expect(registry.connect(caller).revokeSealCertificate(ZJ_EDU, fingerprints.zjEdu, T, KEY_COMPROMISE))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
        .withArgs(caller.address, ZJ);
    }
    expect((await registry.sealRevocation(fingerprints.zjEdu)).effectiveFrom).to.equal(0n);
  });

  it("refuses an unknown issuer and a fingerprint the registry does not hold for that issuer", async function () {
    const { registry, zjAuthority, fingerprints } = await loadFixture(issuersFixture);
    const zj = registry.connect(zjAuthority);
    await expect(zj.revokeSealCertificate(UNKNOWN_ISSUER, fingerprints.zjEdu, T, KEY_COMPROMISE))
      .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownIssuer")
      .withArgs(UNKNOWN_ISSUER);
    // Another issuer's of the same province, another province's, unknown, zero, a CA's.
    for (const fp of [fingerprints.zjMarket, fingerprints.jsEdu, fingerprint("never"), ZERO32, CA.zj]) {
      await expect(zj.revokeSealCertificate(ZJ_EDU, fp, T, KEY_COMPROMISE))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownSealCertificate")
        .withArgs(ZJ_EDU, fp);
    }
    // ... while ZJ-MARKET's own seal is revocable as ZJ-MARKET's.
    await expect(zj.revokeSealCertificate(ZJ_MARKET, fingerprints.zjMarket, T, KEY_COMPROMISE)).to.emit(
      registry,
      "SealCertificateRevoked",
    );
  });

  it("refuses a zero effective time (InvalidEffectiveTime) and reasons outside 1..7 (InvalidReason)", async function () {
    const { registry, zjAuthority, fingerprints } = await loadFixture(issuersFixture);
    const zj = registry.connect(zjAuthority);
    await expect(
      zj.revokeSealCertificate(ZJ_EDU, fingerprints.zjEdu, 0n, KEY_COMPROMISE),
    ).to.be.revertedWithCustomError(registry, "CertificateRegistryInvalidEffectiveTime");
    for (const reason of [0, 8, 255]) {
      await expect(zj.revokeSealCertificate(ZJ_EDU, fingerprints.zjEdu, T, reason))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryInvalidReason")
        .withArgs(reason);
    }
    expect((await registry.sealRevocation(fingerprints.zjEdu)).effectiveFrom).to.equal(0n);
  });
});

describe("Province CA distrust", function () {
  it("lets the consortium admin distrust a province CA: ProvinceCaDistrusted, caDistrust", async function () {
    const { registry, admin } = await loadFixture(issuersFixture);
    const tx = registry.connect(admin).distrustProvinceCa(ZJ, CA.zj, T, KEY_COMPROMISE);
    await expect(tx).to.emit(registry, "ProvinceCaDistrusted").withArgs(ZJ, CA.zj, T, KEY_COMPROMISE, admin.address);
    const { number, timestamp } = await blockOf(await mined(tx));
    const distrust = await registry.caDistrust(CA.zj);
    expect(distrust.provinceCode).to.equal(ZJ);
    expect(fields(distrust)).to.deep.equal([T, BigInt(KEY_COMPROMISE), number, timestamp]);
    const none = await registry.caDistrust(CA.js);
    expect([none.provinceCode, ...fields(none)]).to.deep.equal([ZERO32, 0n, 0n, 0n, 0n]);
    // The seals issued under it stay on record: verifiers judge them by anchor time.
    expect(
      (await registry.sealCertificate((await registry.getIssuer(ZJ_EDU)).sealCertFingerprint)).caFingerprint,
    ).to.equal(CA.zj);
  });

  it("accepts a CA no registered seal names yet (the province must exist)", async function () {
    const { registry, admin } = await loadFixture(issuersFixture);
    const other = caFingerprint("GD:1");
    await expect(registry.connect(admin).distrustProvinceCa(GD, other, T, SUPERSEDED))
      .to.emit(registry, "ProvinceCaDistrusted")
      .withArgs(GD, other, T, SUPERSEDED, admin.address);
  });

  it("accepts a second distrust only with an earlier effective time (EffectiveTimeNotEarlier)", async function () {
    const { registry, admin } = await loadFixture(issuersFixture);
    const asAdmin = registry.connect(admin);
    await mined(asAdmin.distrustProvinceCa(ZJ, CA.zj, T, SUPERSEDED));
    for (const later of [T, T + 1n]) {
      await expect(asAdmin.distrustProvinceCa(ZJ, CA.zj, later, KEY_COMPROMISE))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryEffectiveTimeNotEarlier")
        .withArgs(CA.zj, T, later);
    }
    await expect(asAdmin.distrustProvinceCa(ZJ, CA.zj, T - 1n, KEY_COMPROMISE))
      .to.emit(registry, "ProvinceCaDistrusted")
      .withArgs(ZJ, CA.zj, T - 1n, KEY_COMPROMISE, admin.address);
    const distrust = await registry.caDistrust(CA.zj);
    expect([distrust.effectiveFrom, distrust.reason]).to.deep.equal([T - 1n, BigInt(KEY_COMPROMISE)]);
  });

  it("refuses the same CA named as another province's (CaOfAnotherProvince)", async function () {
    const { registry, admin } = await loadFixture(issuersFixture);
    await mined(registry.connect(admin).distrustProvinceCa(ZJ, CA.zj, T, SUPERSEDED));
    await expect(registry.connect(admin).distrustProvinceCa(JS, CA.zj, T - 1n, KEY_COMPROMISE))
      .to.be.revertedWithCustomError(registry, "CertificateRegistryCaOfAnotherProvince")
      .withArgs(CA.zj, ZJ);
    expect((await registry.caDistrust(CA.zj)).provinceCode).to.equal(ZJ);
  });

  it("is refused to anyone but the consortium admin, province authorities included", async function () {
    const { registry, zjAuthority, jsAuthority, zjEdu, outsider } = await loadFixture(issuersFixture);
    for (const caller of [zjAuthority, jsAuthority, zjEdu, outsider]) {
      await expect(registry.connect(caller).distrustProvinceCa(ZJ, CA.zj, T, KEY_COMPROMISE))
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(caller.address);
    }
    expect((await registry.caDistrust(CA.zj)).effectiveFrom).to.equal(0n);
  });

  it("refuses an unknown province, a zero fingerprint, a zero time and reasons outside 1..7", async function () {
    const { registry, admin } = await loadFixture(issuersFixture);
    const asAdmin = registry.connect(admin);
    await expect(asAdmin.distrustProvinceCa(SH, CA.zj, T, KEY_COMPROMISE))
      .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownProvince")
      .withArgs(SH);
    await expect(asAdmin.distrustProvinceCa(ZJ, ZERO32, T, KEY_COMPROMISE)).to.be.revertedWithCustomError(
      registry,
      "CertificateRegistryInvalidFingerprint",
    );
    await expect(asAdmin.distrustProvinceCa(ZJ, CA.zj, 0n, KEY_COMPROMISE)).to.be.revertedWithCustomError(
      registry,
      "CertificateRegistryInvalidEffectiveTime",
    );
    for (const reason of [0, 8]) {
      await expect(asAdmin.distrustProvinceCa(ZJ, CA.zj, T, reason))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryInvalidReason")
        .withArgs(reason);
    }
    expect((await registry.caDistrust(CA.zj)).effectiveFrom).to.equal(0n);
  });

  it("leaves anchoring alone: the registry records the distrust, verifiers apply it by time", async function () {
    const { registry, admin, jsEdu } = await loadFixture(issuersFixture);
    await mined(registry.connect(admin).distrustProvinceCa(JS, CA.js, 1n, KEY_COMPROMISE));
    const root = fingerprint("any root");
    await expect(registry.connect(jsEdu).anchor(root, 1, DIPLOMA))
      .to.emit(registry, "RootAnchored")
      .withArgs(JS_EDU, root, DIPLOMA, jsEdu.address, 1);
  });
});
