// Gas of one representative call of every state-changing function. The figures are the
// receipts' gasUsed (21,000 intrinsic gas and calldata included). An `after` hook prints them and
// writes them to hardhat/gas-report.json.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { expect } from "chai";
import type { ContractTransactionResponse } from "ethers";

import {
  CA,
  DEGREE,
  DIPLOMA,
  JS,
  SH,
  TRANSCRIPT,
  ZJ,
  ZJ_EDU,
  anchoredFixture,
  b32,
  batches,
  connection,
  fingerprint,
  issuersFixture,
  mined,
  networkHelpers,
  provincesFixture,
} from "./fixtures.js";

const { loadFixture } = networkHelpers;

const REPORT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "gas-report.json");
const ORDER = [
  "admitProvince",
  "setProvinceAuthority",
  "proposeProvinceAuthority",
  "acceptProvinceAuthority",
  "executeProvinceAuthority",
  "cancelProvinceAuthority",
  "distrustProvinceCa",
  "registerIssuer",
  "suspendIssuer",
  "reactivateIssuer",
  "rotateIssuerAccount",
  "rotateSealCertificate",
  "revokeSealCertificate",
  "setIssuerCertType",
  "anchor",
  "revokeRoot",
  "revokeCertificate",
  "setRecognition",
] as const;
type Fn = (typeof ORDER)[number];

const measured = new Map<Fn, { call: string; gasUsed: bigint }>();

async function record(fn: Fn, call: string, tx: Promise<ContractTransactionResponse>) {
  const receipt = await mined(tx);
  expect(receipt.status).to.equal(1);
  expect(receipt.gasUsed).to.be.greaterThan(21_000n);
  measured.set(fn, { call, gasUsed: receipt.gasUsed });
  return receipt;
}

describe("Gas report", function () {
  it("admitProvince", async function () {
    const { registry, admin, spare } = await loadFixture(provincesFixture);
    await record(
      "admitProvince",
      "admin admits a 4th province",
      registry.connect(admin).admitProvince(SH, "Shanghai", spare[0].address),
    );
    expect(await registry.provinceOfAuthority(spare[0].address)).to.equal(SH);
  });

  it("setProvinceAuthority", async function () {
    const { registry, zjAuthority, spare } = await loadFixture(provincesFixture);
    await record(
      "setProvinceAuthority",
      "authority hands over to a fresh account",
      registry.connect(zjAuthority).setProvinceAuthority(ZJ, spare[0].address),
    );
    expect(await registry.provinceOfAuthority(spare[0].address)).to.equal(ZJ);
  });

  it("proposeProvinceAuthority, then acceptProvinceAuthority", async function () {
    const { registry, admin, zjAuthority, spare } = await loadFixture(provincesFixture);
    await record(
      "proposeProvinceAuthority",
      "admin proposes a new ZJ authority",
      registry.connect(admin).proposeProvinceAuthority(ZJ, spare[0].address),
    );
    await record(
      "acceptProvinceAuthority",
      "ZJ authority consents",
      registry.connect(zjAuthority).acceptProvinceAuthority(ZJ, spare[0].address),
    );
    expect(await registry.provinceOfAuthority(spare[0].address)).to.equal(ZJ);
  });

  it("executeProvinceAuthority after the delay, and cancelProvinceAuthority", async function () {
    const { registry, admin, spare } = await loadFixture(provincesFixture);
    await mined(registry.connect(admin).proposeProvinceAuthority(ZJ, spare[0].address));
    await mined(registry.connect(admin).proposeProvinceAuthority(JS, spare[1].address));
    await networkHelpers.time.increase(await registry.AUTHORITY_CHANGE_DELAY());
    await record(
      "executeProvinceAuthority",
      "admin executes after 7 days",
      registry.connect(admin).executeProvinceAuthority(ZJ),
    );
    expect(await registry.provinceOfAuthority(spare[0].address)).to.equal(ZJ);
    await record("cancelProvinceAuthority", "admin withdraws", registry.connect(admin).cancelProvinceAuthority(JS));
  });

  it("distrustProvinceCa", async function () {
    const { registry, admin } = await loadFixture(issuersFixture);
    await record(
      "distrustProvinceCa",
      "first distrust of a CA",
      registry.connect(admin).distrustProvinceCa(ZJ, CA.zj, 1_800_000_000n, 2),
    );
    expect((await registry.caDistrust(CA.zj)).provinceCode).to.equal(ZJ);
  });

  it("revokeSealCertificate", async function () {
    const { registry, zjAuthority } = await loadFixture(issuersFixture);
    const fp = (await registry.getIssuer(ZJ_EDU)).sealCertFingerprint;
    await record(
      "revokeSealCertificate",
      "first revocation of the current seal",
      registry.connect(zjAuthority).revokeSealCertificate(ZJ_EDU, fp, 1_800_000_000n, 2),
    );
    expect((await registry.sealRevocation(fp)).reason).to.equal(2n);
  });

  it("registerIssuer with 2 types", async function () {
    const { registry, zjAuthority, spare } = await loadFixture(issuersFixture);
    const id = b32("ZJ-HEALTH");
    await record(
      "registerIssuer",
      "4th issuer, 2 certificate types",
      registry
        .connect(zjAuthority)
        .registerIssuer(ZJ, id, spare[0].address, "Zhejiang Health Commission", fingerprint("ZJ-HEALTH:1"), CA.zj, [
          DIPLOMA,
          DEGREE,
        ]),
    );
    expect(await registry.issuerCertTypes(id)).to.have.length(2);
  });

  it("suspendIssuer and reactivateIssuer", async function () {
    const { registry, zjAuthority } = await loadFixture(issuersFixture);
    await record(
      "suspendIssuer",
      "authority suspends an active issuer",
      registry.connect(zjAuthority).suspendIssuer(ZJ_EDU),
    );
    expect(await registry.isAuthorised(ZJ_EDU, DIPLOMA)).to.equal(false);
    await record(
      "reactivateIssuer",
      "authority reactivates it",
      registry.connect(zjAuthority).reactivateIssuer(ZJ_EDU),
    );
    expect(await registry.isAuthorised(ZJ_EDU, DIPLOMA)).to.equal(true);
  });

  it("rotateIssuerAccount", async function () {
    const { registry, zjAuthority, spare } = await loadFixture(issuersFixture);
    await record(
      "rotateIssuerAccount",
      "to a fresh account",
      registry.connect(zjAuthority).rotateIssuerAccount(ZJ_EDU, spare[0].address),
    );
    expect(await registry.issuerOfAccount(spare[0].address)).to.equal(ZJ_EDU);
  });

  it("rotateSealCertificate", async function () {
    const { registry, zjAuthority } = await loadFixture(issuersFixture);
    await record(
      "rotateSealCertificate",
      "to a new fingerprint",
      registry.connect(zjAuthority).rotateSealCertificate(ZJ_EDU, fingerprint("ZJ-EDU:2"), CA.zj),
    );
    expect((await registry.getIssuer(ZJ_EDU)).sealCertFingerprint).to.equal(fingerprint("ZJ-EDU:2"));
  });

  it("setIssuerCertType", async function () {
    const { registry, zjAuthority } = await loadFixture(issuersFixture);
    await record(
      "setIssuerCertType",
      "grant a 3rd type",
      registry.connect(zjAuthority).setIssuerCertType(ZJ_EDU, TRANSCRIPT, true),
    );
    expect(await registry.isAuthorised(ZJ_EDU, TRANSCRIPT)).to.equal(true);
  });

  it("anchor (batch of 1,024)", async function () {
    const { registry, zjEdu } = await loadFixture(issuersFixture);
    const batch = batches().zj1024;
    const receipt = await record(
      "anchor",
      "root of a real 1,024-certificate tree",
      registry.connect(zjEdu).anchor(batch.root, batch.leafCount, DIPLOMA),
    );
    expect(receipt.gasUsed).to.be.lessThan(60n * 1024n);
  });

  it("revokeRoot", async function () {
    const { registry, zjEdu, zjBatch } = await loadFixture(anchoredFixture);
    await record("revokeRoot", "issuer revokes its batch", registry.connect(zjEdu).revokeRoot(ZJ_EDU, zjBatch.root, 3));
    expect((await registry.rootRevocation(ZJ_EDU, zjBatch.root)).reason).to.equal(3n);
  });

  it("revokeCertificate (10-level proof)", async function () {
    const { registry, zjEdu, zjBatch } = await loadFixture(anchoredFixture);
    const proof = zjBatch.tree.proof(137);
    expect(proof).to.have.length(10);
    const leaf = zjBatch.tree.leaves[137];
    await record(
      "revokeCertificate",
      "issuer, leaf of a 1,024 batch, 10-level proof",
      registry.connect(zjEdu).revokeCertificate(ZJ_EDU, zjBatch.root, leaf, proof, 2),
    );
    expect((await registry.certificateRevocation(ZJ_EDU, zjBatch.root, leaf)).reason).to.equal(2n);
  });

  it("setRecognition", async function () {
    const { registry, zjAuthority } = await loadFixture(provincesFixture);
    await record(
      "setRecognition",
      "first recognition of a pair",
      registry.connect(zjAuthority).setRecognition(JS, DIPLOMA, true),
    );
    expect(await registry.isRecognised(ZJ, JS, DIPLOMA)).to.equal(true);
  });
});

// Root-level, so the table comes after the whole run's output.
after(function () {
  if (measured.size === 0) return;
  const rows = ORDER.filter((fn) => measured.has(fn)).map((fn) => ({
    function: fn,
    call: measured.get(fn)!.call,
    gasUsed: Number(measured.get(fn)!.gasUsed),
  }));
  const anchorGas = measured.get("anchor")?.gasUsed;
  const perCertificate = anchorGas === undefined ? undefined : Math.round((Number(anchorGas) / 1024) * 100) / 100;

  console.log("\n  Gas used per call (receipt gasUsed, intrinsic 21,000 included)");
  console.table(Object.fromEntries(rows.map((r) => [r.function, { gasUsed: r.gasUsed, call: r.call }])));
  if (perCertificate !== undefined) console.log(`  gas per certificate at 1024: ${perCertificate}\n`);

  const require = createRequire(import.meta.url);
  const report = {
    contract: "CertificateRegistry",
    solc: require("solc/package.json").version as string,
    hardfork: (connection.networkConfig as { hardfork?: string }).hardfork ?? null,
    note: "gasUsed of one transaction receipt per function, 21,000 intrinsic gas and calldata included",
    complete: rows.length === ORDER.length,
    functions: rows,
    "gas per certificate at 1024": perCertificate ?? null,
  };
  writeFileSync(REPORT, JSON.stringify(report, null, 2) + "\n");
});
