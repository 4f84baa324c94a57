import { expect } from "chai";

import {
  DEGREE,
  DIPLOMA,
  GD,
  JS,
  LICENCE,
  SH,
  ZERO16,
  ZERO32,
  ZJ,
  issuersFixture,
  mined,
  networkHelpers,
  provincesFixture,
} from "./fixtures.js";

const { loadFixture } = networkHelpers;

describe("Recognition", function () {
  it("records a province's recognition of another's certificate type: RecognitionSet, isRecognised", async function () {
    const { registry, zjAuthority } = await loadFixture(provincesFixture);
    expect(await registry.isRecognised(ZJ, JS, DIPLOMA)).to.equal(false);
    await expect(registry.connect(zjAuthority).setRecognition(JS, DIPLOMA, true))
      .to.emit(registry, "RecognitionSet")
      .withArgs(ZJ, JS, DIPLOMA, true);
    expect(await registry.isRecognised(ZJ, JS, DIPLOMA)).to.equal(true);
    // Only that direction, that issuing province and that type.
    expect(await registry.isRecognised(JS, ZJ, DIPLOMA)).to.equal(false);
    expect(await registry.isRecognised(ZJ, GD, DIPLOMA)).to.equal(false);
    expect(await registry.isRecognised(ZJ, JS, DEGREE)).to.equal(false);
    expect(await registry.isRecognised(GD, JS, DIPLOMA)).to.equal(false);
  });

  it("withdraws a recognition", async function () {
    const { registry, zjAuthority } = await loadFixture(provincesFixture);
    const zj = registry.connect(zjAuthority);
    await mined(zj.setRecognition(JS, DIPLOMA, true));
    await mined(zj.setRecognition(JS, DEGREE, true));
    await expect(zj.setRecognition(JS, DIPLOMA, false))
      .to.emit(registry, "RecognitionSet")
      .withArgs(ZJ, JS, DIPLOMA, false);
    expect(await registry.isRecognised(ZJ, JS, DIPLOMA)).to.equal(false);
    expect(await registry.isRecognised(ZJ, JS, DEGREE)).to.equal(true);
  });

  it("a province always recognises its own certificates, an unknown province nothing", async function () {
    const { registry, zjAuthority } = await loadFixture(provincesFixture);
    for (const type of [DIPLOMA, LICENCE, ZERO16]) {
      expect(await registry.isRecognised(ZJ, ZJ, type)).to.equal(true);
      expect(await registry.isRecognised(GD, GD, type)).to.equal(true);
      expect(await registry.isRecognised(SH, SH, type)).to.equal(false);
    }
    expect(await registry.isRecognised(ZERO32, ZERO32, DIPLOMA)).to.equal(false);
    // ... and cannot declare it.
    await expect(registry.connect(zjAuthority).setRecognition(ZJ, DIPLOMA, false))
      .to.be.revertedWithCustomError(registry, "CertificateRegistrySelfRecognition")
      .withArgs(ZJ);
    expect(await registry.isRecognised(ZJ, ZJ, DIPLOMA)).to.equal(true);
  });

  it("refuses an unknown or zero issuing province", async function () {
    const { registry, zjAuthority } = await loadFixture(provincesFixture);
    for (const code of [SH, ZERO32]) {
      await expect(registry.connect(zjAuthority).setRecognition(code, DIPLOMA, true))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownProvince")
        .withArgs(code);
    }
  });

  it("refuses the zero certificate type", async function () {
    const { registry, zjAuthority } = await loadFixture(provincesFixture);
    await expect(registry.connect(zjAuthority).setRecognition(JS, ZERO16, true)).to.be.revertedWithCustomError(
      registry,
      "CertificateRegistryInvalidCertType",
    );
  });

  it("refuses callers who are not a province authority (admin, issuer, outsider)", async function () {
    const { registry, admin, zjEdu, outsider } = await loadFixture(issuersFixture);
    for (const caller of [admin, zjEdu, outsider]) {
      await expect(registry.connect(caller).setRecognition(JS, DIPLOMA, true))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
        .withArgs(caller.address, ZERO32);
    }
    expect(await registry.isRecognised(ZERO32, JS, DIPLOMA)).to.equal(false);
  });

  it("belongs to the province, not the account: it survives an authority change", async function () {
    const { registry, admin, zjAuthority, spare } = await loadFixture(provincesFixture);
    await mined(registry.connect(zjAuthority).setRecognition(JS, DIPLOMA, true));
    // Recovery without the province's consent: the admin executes after the delay.
    await mined(registry.connect(admin).proposeProvinceAuthority(ZJ, spare[0].address));
    await networkHelpers.time.increase(await registry.AUTHORITY_CHANGE_DELAY());
    await mined(registry.connect(admin).executeProvinceAuthority(ZJ));
    expect(await registry.isRecognised(ZJ, JS, DIPLOMA)).to.equal(true);
    await expect(registry.connect(zjAuthority).setRecognition(JS, DIPLOMA, false))
      .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
      .withArgs(zjAuthority.address, ZERO32);
    await expect(registry.connect(spare[0]).setRecognition(JS, DIPLOMA, false))
      .to.emit(registry, "RecognitionSet")
      .withArgs(ZJ, JS, DIPLOMA, false);
    expect(await registry.isRecognised(ZJ, JS, DIPLOMA)).to.equal(false);
  });
});
