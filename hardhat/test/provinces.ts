import { expect } from "chai";

import type { NetworkConnection } from "hardhat/types/network";

import {
  CA,
  DIPLOMA,
  GD,
  IssuerStatus,
  JS,
  SH,
  ZERO32,
  ZERO_ADDRESS,
  ZJ,
  ZJ_EDU,
  b32,
  blockOf,
  eventNames,
  fingerprint,
  issuersFixture,
  mined,
  networkHelpers,
  provincesFixture,
} from "./fixtures.js";

const { loadFixture } = networkHelpers;

describe("Provinces", function () {
  describe("deployment", function () {
    it("makes the constructor's consortium admin the owner, not the deployer", async function () {
      const { registry, admin, deployer } = await loadFixture(provincesFixture);
      expect(await registry.owner()).to.equal(admin.address);
      expect(await registry.owner()).to.not.equal(deployer.address);
      expect(await registry.pendingOwner()).to.equal(ZERO_ADDRESS);
      expect(await registry.MAX_REVOCATION_REASON()).to.equal(7n);
    });

    it("lists the admitted provinces in admission order with their authorities", async function () {
      const { registry, zjAuthority, jsAuthority, gdAuthority, outsider } = await loadFixture(provincesFixture);
      expect(await registry.provinceCodes()).to.deep.equal([ZJ, JS, GD]);
      expect(await registry.provinceOfAuthority(zjAuthority.address)).to.equal(ZJ);
      expect(await registry.provinceOfAuthority(jsAuthority.address)).to.equal(JS);
      expect(await registry.provinceOfAuthority(gdAuthority.address)).to.equal(GD);
      expect(await registry.provinceOfAuthority(outsider.address)).to.equal(ZERO32);
      const gd = await registry.getProvince(GD);
      expect(gd.authority).to.equal(gdAuthority.address);
      expect(gd.name).to.equal("Guangdong");
    });

    it("getProvince refuses an unknown code", async function () {
      const { registry } = await loadFixture(provincesFixture);
      await expect(registry.getProvince(SH))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownProvince")
        .withArgs(SH);
    });
  });

  describe("admitProvince", function () {
    it("admits a province, emits ProvinceAdmitted and records it in every view", async function () {
      const { registry, admin, spare } = await loadFixture(provincesFixture);
      const shAuthority = spare[0];
      const tx = registry.connect(admin).admitProvince(SH, "Shanghai", shAuthority.address);
      await expect(tx).to.emit(registry, "ProvinceAdmitted").withArgs(SH, shAuthority.address, "Shanghai");
      const { number } = await blockOf(await mined(tx));

      const province = await registry.getProvince(SH);
      expect(province.authority).to.equal(shAuthority.address);
      expect(province.admittedAt).to.equal(number);
      expect(province.name).to.equal("Shanghai");
      expect(await registry.provinceCodes()).to.deep.equal([ZJ, JS, GD, SH]);
      expect(await registry.provinceOfAuthority(shAuthority.address)).to.equal(SH);
    });

    it("is refused to anyone but the consortium admin", async function () {
      const { registry, deployer, zjAuthority, outsider, spare } = await loadFixture(provincesFixture);
      for (const caller of [deployer, zjAuthority, outsider]) {
        await expect(registry.connect(caller).admitProvince(SH, "Shanghai", spare[0].address))
          .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
          .withArgs(caller.address);
      }
      expect(await registry.provinceCodes()).to.have.length(3);
    });

    it("refuses the zero code", async function () {
      const { registry, admin, spare } = await loadFixture(provincesFixture);
      await expect(
        registry.connect(admin).admitProvince(ZERO32, "Nowhere", spare[0].address),
      ).to.be.revertedWithCustomError(registry, "CertificateRegistryInvalidCode");
    });

    it("refuses a code already admitted", async function () {
      const { registry, admin, spare } = await loadFixture(provincesFixture);
      await expect(registry.connect(admin).admitProvince(ZJ, "Zhejiang again", spare[0].address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryProvinceExists")
        .withArgs(ZJ);
    });

    it("refuses the zero authority", async function () {
      const { registry, admin } = await loadFixture(provincesFixture);
      await expect(registry.connect(admin).admitProvince(SH, "Shanghai", ZERO_ADDRESS))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryInvalidAccount")
        .withArgs(ZERO_ADDRESS);
    });

    it("refuses an authority that already governs another province", async function () {
      const { registry, admin, jsAuthority } = await loadFixture(provincesFixture);
      await expect(registry.connect(admin).admitProvince(SH, "Shanghai", jsAuthority.address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryAuthorityInUse")
        .withArgs(jsAuthority.address);
      expect(await registry.provinceOfAuthority(jsAuthority.address)).to.equal(JS);
    });
  });

  describe("setProvinceAuthority", function () {
    it("lets the current authority hand over, emitting ProvinceAuthorityChanged", async function () {
      const { registry, zjAuthority, spare } = await loadFixture(provincesFixture);
      const next = spare[0];
      await expect(registry.connect(zjAuthority).setProvinceAuthority(ZJ, next.address))
        .to.emit(registry, "ProvinceAuthorityChanged")
        .withArgs(ZJ, zjAuthority.address, next.address);
      expect((await registry.getProvince(ZJ)).authority).to.equal(next.address);
      expect(await registry.provinceOfAuthority(next.address)).to.equal(ZJ);
      expect(await registry.provinceOfAuthority(zjAuthority.address)).to.equal(ZERO32);
    });

    it("is refused to the consortium admin, who must propose instead", async function () {
      const { registry, admin, zjAuthority, spare } = await loadFixture(provincesFixture);
      await expect(registry.connect(admin).setProvinceAuthority(ZJ, spare[0].address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
        .withArgs(admin.address, ZJ);
      expect((await registry.getProvince(ZJ)).authority).to.equal(zjAuthority.address);
    });

    it("is refused to other provinces' authorities, issuers and outsiders", async function () {
      const { registry, jsAuthority, zjEdu, outsider, spare } = await loadFixture(issuersFixture);
      for (const caller of [jsAuthority, zjEdu, outsider]) {
        await expect(registry.connect(caller).setProvinceAuthority(ZJ, spare[0].address))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
          .withArgs(caller.address, ZJ);
      }
    });

    it("refuses an unknown province, the zero account and an authority in use", async function () {
      const { registry, zjAuthority, jsAuthority, spare } = await loadFixture(provincesFixture);
      await expect(registry.connect(zjAuthority).setProvinceAuthority(SH, spare[0].address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownProvince")
        .withArgs(SH);
      await expect(registry.connect(zjAuthority).setProvinceAuthority(ZJ, ZERO_ADDRESS))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryInvalidAccount")
        .withArgs(ZERO_ADDRESS);
      await expect(registry.connect(zjAuthority).setProvinceAuthority(ZJ, jsAuthority.address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryAuthorityInUse")
        .withArgs(jsAuthority.address);
      await expect(registry.connect(zjAuthority).setProvinceAuthority(ZJ, zjAuthority.address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryAuthorityInUse")
        .withArgs(zjAuthority.address);
      expect((await registry.getProvince(ZJ)).authority).to.equal(zjAuthority.address);
    });

    it("takes every right from the old authority and gives it to the new one", async function () {
      const { registry, zjAuthority, spare } = await loadFixture(issuersFixture);
      const next = spare[0];
      await mined(registry.connect(zjAuthority).setProvinceAuthority(ZJ, next.address));

      const newIssuer = b32("ZJ-HEALTH");
      const refusal = (p: Promise<unknown>) =>
        expect(p)
          .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
          .withArgs(zjAuthority.address, ZJ);
      const old = registry.connect(zjAuthority);
      await refusal(old.registerIssuer(ZJ, newIssuer, spare[1].address, "Health", fingerprint("H"), CA.zj, [DIPLOMA]));
      await refusal(old.suspendIssuer(ZJ_EDU));
      await refusal(old.setIssuerCertType(ZJ_EDU, DIPLOMA, false));
      await refusal(old.setProvinceAuthority(ZJ, spare[2].address));
      await expect(old.setRecognition(JS, DIPLOMA, true))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
        .withArgs(zjAuthority.address, ZERO32);

      const now = registry.connect(next);
      await expect(
        now.registerIssuer(ZJ, newIssuer, spare[1].address, "Health", fingerprint("H"), CA.zj, [DIPLOMA]),
      ).to.emit(registry, "IssuerRegistered");
      await expect(now.suspendIssuer(ZJ_EDU)).to.emit(registry, "IssuerSuspended").withArgs(ZJ_EDU, next.address);
      expect((await registry.getIssuer(ZJ_EDU)).status).to.equal(IssuerStatus.Suspended);
    });

    it("frees the old authority account for another province", async function () {
      const { registry, admin, zjAuthority, spare } = await loadFixture(provincesFixture);
      await mined(registry.connect(zjAuthority).setProvinceAuthority(ZJ, spare[0].address));
      await expect(registry.connect(admin).admitProvince(SH, "Shanghai", zjAuthority.address))
        .to.emit(registry, "ProvinceAdmitted")
        .withArgs(SH, zjAuthority.address, "Shanghai");
      expect(await registry.provinceOfAuthority(zjAuthority.address)).to.equal(SH);
    });
  });

  describe("replacing a province's authority: consent or time lock", function () {
    const DAYS_7 = 7n * 24n * 3600n;

    /** provincesFixture + the admin's proposal to hand ZJ to spare[0]. */
    async function proposedFixture(conn: NetworkConnection) {
      const ctx = await provincesFixture(conn);
      const receipt = await mined(ctx.registry.connect(ctx.admin).proposeProvinceAuthority(ZJ, ctx.spare[0].address));
      const { timestamp } = await blockOf(receipt);
      return { ...ctx, proposed: ctx.spare[0], executableAt: timestamp + DAYS_7 };
    }

    it("waits 7 days (AUTHORITY_CHANGE_DELAY) before the admin may act alone", async function () {
      const { registry } = await loadFixture(provincesFixture);
      expect(await registry.AUTHORITY_CHANGE_DELAY()).to.equal(DAYS_7);
    });

    it("records a proposal (ProvinceAuthorityProposed) and changes nothing yet", async function () {
      const { registry, admin, zjAuthority, spare } = await loadFixture(provincesFixture);
      expect(await registry.pendingProvinceAuthority(ZJ)).to.deep.equal([ZERO_ADDRESS, 0n]);
      const tx = registry.connect(admin).proposeProvinceAuthority(ZJ, spare[0].address);
      const { timestamp } = await blockOf(await mined(tx));
      await expect(tx)
        .to.emit(registry, "ProvinceAuthorityProposed")
        .withArgs(ZJ, spare[0].address, timestamp + DAYS_7);
      expect(await registry.pendingProvinceAuthority(ZJ)).to.deep.equal([spare[0].address, timestamp + DAYS_7]);
      expect((await registry.getProvince(ZJ)).authority).to.equal(zjAuthority.address);
      expect(await registry.provinceOfAuthority(spare[0].address)).to.equal(ZERO32);
      // The current authority keeps every right meanwhile.
      await expect(registry.connect(zjAuthority).setRecognition(JS, DIPLOMA, true)).to.emit(registry, "RecognitionSet");
    });

    it("takes effect at once when the province's authority consents (ProvinceAuthorityProposalAccepted)", async function () {
      const { registry, zjAuthority, proposed } = await loadFixture(proposedFixture);
      const tx = registry.connect(zjAuthority).acceptProvinceAuthority(ZJ, proposed.address);
      await expect(tx)
        .to.emit(registry, "ProvinceAuthorityProposalAccepted")
        .withArgs(ZJ, proposed.address, zjAuthority.address);
      await expect(tx)
        .to.emit(registry, "ProvinceAuthorityChanged")
        .withArgs(ZJ, zjAuthority.address, proposed.address);
      expect(eventNames(registry, await mined(tx))).to.deep.equal([
        "ProvinceAuthorityProposalAccepted",
        "ProvinceAuthorityChanged",
      ]);
      expect((await registry.getProvince(ZJ)).authority).to.equal(proposed.address);
      expect(await registry.provinceOfAuthority(zjAuthority.address)).to.equal(ZERO32);
      expect(await registry.pendingProvinceAuthority(ZJ)).to.deep.equal([ZERO_ADDRESS, 0n]);
      await expect(registry.connect(zjAuthority).setRecognition(JS, DIPLOMA, true))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
        .withArgs(zjAuthority.address, ZERO32);
      await expect(registry.connect(proposed).setRecognition(JS, DIPLOMA, true)).to.emit(registry, "RecognitionSet");
    });

    it("lets the admin execute alone only once the delay has passed (ProvinceAuthorityProposalExecuted)", async function () {
      const { registry, admin, zjAuthority, proposed, executableAt } = await loadFixture(proposedFixture);
      for (const at of [executableAt - DAYS_7 + 3600n, executableAt - 1n]) {
        await networkHelpers.time.setNextBlockTimestamp(at);
        await expect(registry.connect(admin).executeProvinceAuthority(ZJ))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryAuthorityProposalNotReady")
          .withArgs(ZJ, executableAt);
      }
      expect((await registry.getProvince(ZJ)).authority).to.equal(zjAuthority.address);

      await networkHelpers.time.setNextBlockTimestamp(executableAt);
      const tx = registry.connect(admin).executeProvinceAuthority(ZJ);
      await expect(tx).to.emit(registry, "ProvinceAuthorityProposalExecuted").withArgs(ZJ, proposed.address);
      await expect(tx)
        .to.emit(registry, "ProvinceAuthorityChanged")
        .withArgs(ZJ, zjAuthority.address, proposed.address);
      expect((await registry.getProvince(ZJ)).authority).to.equal(proposed.address);
      expect(await registry.pendingProvinceAuthority(ZJ)).to.deep.equal([ZERO_ADDRESS, 0n]);
      // Used up: nothing left to execute.
      await expect(registry.connect(admin).executeProvinceAuthority(ZJ))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNoAuthorityProposal")
        .withArgs(ZJ);
    });

    it("lets the admin cancel (ProvinceAuthorityProposalCancelled); then nothing can be accepted or executed", async function () {
      const { registry, admin, zjAuthority, proposed } = await loadFixture(proposedFixture);
      await expect(registry.connect(admin).cancelProvinceAuthority(ZJ))
        .to.emit(registry, "ProvinceAuthorityProposalCancelled")
        .withArgs(ZJ, proposed.address);
      expect(await registry.pendingProvinceAuthority(ZJ)).to.deep.equal([ZERO_ADDRESS, 0n]);
      await networkHelpers.time.increase(DAYS_7);
      const none = (p: Promise<unknown>) =>
        expect(p).to.be.revertedWithCustomError(registry, "CertificateRegistryNoAuthorityProposal").withArgs(ZJ);
      await none(registry.connect(admin).executeProvinceAuthority(ZJ));
      await none(registry.connect(zjAuthority).acceptProvinceAuthority(ZJ, proposed.address));
      await none(registry.connect(admin).cancelProvinceAuthority(ZJ));
      expect((await registry.getProvince(ZJ)).authority).to.equal(zjAuthority.address);
      // A new proposal starts a new delay.
      await expect(registry.connect(admin).proposeProvinceAuthority(ZJ, proposed.address)).to.emit(
        registry,
        "ProvinceAuthorityProposed",
      );
    });

    it("refuses proposals from anyone but the admin, for unknown provinces, and of unusable accounts", async function () {
      const { registry, admin, zjAuthority, jsAuthority, zjEdu, outsider, spare } = await loadFixture(issuersFixture);
      for (const caller of [zjAuthority, jsAuthority, zjEdu, outsider]) {
        await expect(registry.connect(caller).proposeProvinceAuthority(ZJ, spare[0].address))
          .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
          .withArgs(caller.address);
      }
      const asAdmin = registry.connect(admin);
      await expect(asAdmin.proposeProvinceAuthority(SH, spare[0].address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownProvince")
        .withArgs(SH);
      await expect(asAdmin.proposeProvinceAuthority(ZJ, ZERO_ADDRESS))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryInvalidAccount")
        .withArgs(ZERO_ADDRESS);
      for (const used of [zjAuthority, jsAuthority, zjEdu]) {
        await expect(asAdmin.proposeProvinceAuthority(ZJ, used.address))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryAuthorityInUse")
          .withArgs(used.address);
      }
      expect(await registry.pendingProvinceAuthority(ZJ)).to.deep.equal([ZERO_ADDRESS, 0n]);
    });

    it("refuses a second proposal while one is pending (cancel it first)", async function () {
      const { registry, admin, proposed, spare, executableAt } = await loadFixture(proposedFixture);
      await expect(registry.connect(admin).proposeProvinceAuthority(ZJ, spare[1].address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryAuthorityProposalPending")
        .withArgs(ZJ, proposed.address);
      expect(await registry.pendingProvinceAuthority(ZJ)).to.deep.equal([proposed.address, executableAt]);
      // Other provinces are independent.
      await expect(registry.connect(admin).proposeProvinceAuthority(GD, spare[1].address)).to.emit(
        registry,
        "ProvinceAuthorityProposed",
      );
    });

    it("takes consent only from the province's current authority, for the account proposed", async function () {
      const { registry, admin, zjAuthority, jsAuthority, outsider, proposed, spare } =
        await loadFixture(proposedFixture);
      for (const caller of [jsAuthority, admin, outsider, proposed]) {
        await expect(registry.connect(caller).acceptProvinceAuthority(ZJ, proposed.address))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
          .withArgs(caller.address, ZJ);
      }
      await expect(registry.connect(zjAuthority).acceptProvinceAuthority(ZJ, spare[1].address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryAuthorityProposalMismatch")
        .withArgs(ZJ, proposed.address);
      await expect(registry.connect(jsAuthority).acceptProvinceAuthority(JS, proposed.address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNoAuthorityProposal")
        .withArgs(JS);
      await expect(registry.connect(zjAuthority).acceptProvinceAuthority(SH, proposed.address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownProvince")
        .withArgs(SH);
      expect((await registry.getProvince(ZJ)).authority).to.equal(zjAuthority.address);
    });

    it("refuses execution and cancellation to anyone but the admin, the province's authority included", async function () {
      const { registry, zjAuthority, outsider, proposed, executableAt } = await loadFixture(proposedFixture);
      await networkHelpers.time.setNextBlockTimestamp(executableAt);
      for (const caller of [zjAuthority, outsider, proposed]) {
        await expect(registry.connect(caller).executeProvinceAuthority(ZJ))
          .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
          .withArgs(caller.address);
        await expect(registry.connect(caller).cancelProvinceAuthority(ZJ))
          .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
          .withArgs(caller.address);
      }
      expect(await registry.pendingProvinceAuthority(ZJ)).to.deep.equal([proposed.address, executableAt]);
    });

    it("refuses to complete a proposal whose account was taken meanwhile", async function () {
      const { registry, admin, zjAuthority, proposed, executableAt } = await loadFixture(proposedFixture);
      await mined(registry.connect(admin).admitProvince(SH, "Shanghai", proposed.address));
      await expect(registry.connect(zjAuthority).acceptProvinceAuthority(ZJ, proposed.address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryAuthorityInUse")
        .withArgs(proposed.address);
      await networkHelpers.time.setNextBlockTimestamp(executableAt);
      await expect(registry.connect(admin).executeProvinceAuthority(ZJ))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryAuthorityInUse")
        .withArgs(proposed.address);
      expect((await registry.getProvince(ZJ)).authority).to.equal(zjAuthority.address);
      await expect(registry.connect(admin).cancelProvinceAuthority(ZJ)).to.emit(
        registry,
        "ProvinceAuthorityProposalCancelled",
      );
    });

    it("leaves a pending proposal in place when the province rotates its own key", async function () {
      const { registry, admin, zjAuthority, proposed, spare, executableAt } = await loadFixture(proposedFixture);
      const rotated = spare[1];
      await mined(registry.connect(zjAuthority).setProvinceAuthority(ZJ, rotated.address));
      // The old key can no longer consent; the rotated one can.
      await expect(registry.connect(zjAuthority).acceptProvinceAuthority(ZJ, proposed.address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
        .withArgs(zjAuthority.address, ZJ);
      await networkHelpers.time.setNextBlockTimestamp(executableAt);
      await expect(registry.connect(admin).executeProvinceAuthority(ZJ))
        .to.emit(registry, "ProvinceAuthorityChanged")
        .withArgs(ZJ, rotated.address, proposed.address);
    });
  });

  describe("consortium admin (Ownable2Step)", function () {
    it("transfers only once the new admin accepts", async function () {
      const { registry, admin, zjAuthority, spare } = await loadFixture(provincesFixture);
      const newAdmin = spare[0];
      await expect(registry.connect(admin).transferOwnership(newAdmin.address))
        .to.emit(registry, "OwnershipTransferStarted")
        .withArgs(admin.address, newAdmin.address);
      expect(await registry.owner()).to.equal(admin.address);
      expect(await registry.pendingOwner()).to.equal(newAdmin.address);

      // Pending is not enough.
      await expect(registry.connect(newAdmin).admitProvince(SH, "Shanghai", spare[1].address))
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(newAdmin.address);

      await expect(registry.connect(newAdmin).acceptOwnership())
        .to.emit(registry, "OwnershipTransferred")
        .withArgs(admin.address, newAdmin.address);
      expect(await registry.owner()).to.equal(newAdmin.address);
      expect(await registry.pendingOwner()).to.equal(ZERO_ADDRESS);

      // The old admin has lost both admin powers, the new one has them.
      await expect(registry.connect(admin).admitProvince(SH, "Shanghai", spare[1].address))
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(admin.address);
      await expect(registry.connect(admin).setProvinceAuthority(ZJ, spare[2].address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
        .withArgs(admin.address, ZJ);
      await expect(registry.connect(admin).proposeProvinceAuthority(ZJ, spare[2].address))
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(admin.address);
      await expect(registry.connect(newAdmin).admitProvince(SH, "Shanghai", spare[1].address))
        .to.emit(registry, "ProvinceAdmitted")
        .withArgs(SH, spare[1].address, "Shanghai");
      await expect(registry.connect(newAdmin).proposeProvinceAuthority(ZJ, spare[2].address)).to.emit(
        registry,
        "ProvinceAuthorityProposed",
      );
      await expect(registry.connect(zjAuthority).acceptProvinceAuthority(ZJ, spare[2].address))
        .to.emit(registry, "ProvinceAuthorityChanged")
        .withArgs(ZJ, zjAuthority.address, spare[2].address);
    });

    it("refuses acceptance by anyone but the pending admin", async function () {
      const { registry, admin, outsider, spare } = await loadFixture(provincesFixture);
      await mined(registry.connect(admin).transferOwnership(spare[0].address));
      await expect(registry.connect(outsider).acceptOwnership())
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(outsider.address);
      expect(await registry.owner()).to.equal(admin.address);
    });

    it("refuses a transfer started by anyone but the admin", async function () {
      const { registry, zjAuthority } = await loadFixture(provincesFixture);
      await expect(registry.connect(zjAuthority).transferOwnership(zjAuthority.address))
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(zjAuthority.address);
      expect(await registry.pendingOwner()).to.equal(ZERO_ADDRESS);
    });

    it("cannot be renounced, not even by the admin", async function () {
      const { registry, admin, outsider } = await loadFixture(provincesFixture);
      await expect(registry.connect(admin).renounceOwnership()).to.be.revertedWithCustomError(
        registry,
        "CertificateRegistryRenounceDisabled",
      );
      await expect(registry.connect(outsider).renounceOwnership())
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(outsider.address);
      expect(await registry.owner()).to.equal(admin.address);
    });
  });

  describe("separation of duties", function () {
    it("refuses an issuer account as a province authority, and an authority as an issuer", async function () {
      const { registry, admin, zjAuthority, zjEdu } = await loadFixture(issuersFixture);
      await expect(registry.connect(admin).admitProvince(SH, "Shanghai", zjEdu.address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryAuthorityInUse")
        .withArgs(zjEdu.address);
      await expect(registry.connect(zjAuthority).setProvinceAuthority(ZJ, zjEdu.address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryAuthorityInUse")
        .withArgs(zjEdu.address);
      await expect(registry.connect(admin).proposeProvinceAuthority(ZJ, zjEdu.address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryAuthorityInUse")
        .withArgs(zjEdu.address);
      await expect(
        registry
          .connect(zjAuthority)
          .registerIssuer(ZJ, b32("ZJ-SELF"), zjAuthority.address, "Self", fingerprint("self"), CA.zj, [DIPLOMA]),
      )
        .to.be.revertedWithCustomError(registry, "CertificateRegistryAccountInUse")
        .withArgs(zjAuthority.address);
      await expect(registry.connect(zjAuthority).rotateIssuerAccount(ZJ_EDU, zjAuthority.address))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryAccountInUse")
        .withArgs(zjAuthority.address);
    });
  });

  describe("setBundleKey", function () {
    const key = "0x" + "a1".repeat(48);
    const pop = "0x" + "b2".repeat(96);

    it("lets a province authority publish its trust-bundle key, emitting ProvinceBundleKeySet", async function () {
      const { registry, zjAuthority } = await loadFixture(provincesFixture);
      expect(await registry.bundleKey(ZJ)).to.equal("0x");
      await expect(registry.connect(zjAuthority).setBundleKey(key, pop))
        .to.emit(registry, "ProvinceBundleKeySet")
        .withArgs(ZJ, key, pop);
      expect(await registry.bundleKey(ZJ)).to.equal(key);
      expect(await registry.bundleKey(GD)).to.equal("0x");
      const next = "0x" + "c3".repeat(48);
      await registry.connect(zjAuthority).setBundleKey(next, pop);
      expect(await registry.bundleKey(ZJ)).to.equal(next);
    });

    it("is refused to issuers, the consortium admin and outsiders", async function () {
      const { registry, admin, outsider, zjMarket } = await loadFixture(issuersFixture);
      for (const caller of [admin, outsider, zjMarket]) {
        await expect(registry.connect(caller).setBundleKey(key, pop))
          .to.be.revertedWithCustomError(registry, "CertificateRegistryNotProvinceAuthority")
          .withArgs(caller.address, ZERO32);
      }
    });

    it("refuses keys and proofs of the wrong length, and bundleKey an unknown province", async function () {
      const { registry, zjAuthority } = await loadFixture(provincesFixture);
      for (const [k, p] of [
        ["0x" + "a1".repeat(47), pop],
        ["0x" + "a1".repeat(96), pop],
        [key, "0x" + "b2".repeat(48)],
        ["0x", "0x"],
      ]) {
        await expect(registry.connect(zjAuthority).setBundleKey(k, p)).to.be.revertedWithCustomError(
          registry,
          "CertificateRegistryInvalidBundleKey",
        );
      }
      await expect(registry.bundleKey(SH))
        .to.be.revertedWithCustomError(registry, "CertificateRegistryUnknownProvince")
        .withArgs(SH);
    });
  });
});
