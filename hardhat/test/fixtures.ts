// Shared connection, encodings and fixtures of the CertificateRegistry tests.
//
// All test files share one network connection (network.getOrCreate), so loadFixture snapshots
// are taken and restored on the same simulated chain whatever file runs first.
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import type { ContractTransactionResponse } from "ethers";

import { type Batch, makeBatch } from "./merkle.js";

export const connection = await network.getOrCreate();
export const { ethers, networkHelpers } = connection;

// ---------------------------------------------------------------- encodings (ledger/codes.py)

/** Province code or issuer id: ASCII left-aligned in bytes32 (zero right-padding). */
export const b32 = (text: string): string => ethers.encodeBytes32String(text);

/** Certificate type code: ASCII left-aligned in bytes16. */
export function b16(text: string): string {
  const bytes = ethers.toUtf8Bytes(text);
  if (bytes.length > 16) throw new Error(`${text} does not fit in bytes16`);
  return ethers.zeroPadBytes(bytes, 16);
}

export const ZERO32 = ethers.ZeroHash;
export const ZERO16 = "0x" + "00".repeat(16);
export const ZERO_ADDRESS = ethers.ZeroAddress;

export const ZJ = b32("ZJ");
export const JS = b32("JS");
export const GD = b32("GD");
export const SH = b32("SH"); // never admitted by the fixtures

export const DIPLOMA = b16("DIPLOMA");
export const DEGREE = b16("DEGREE");
export const LICENCE = b16("BUSINESS_LICENCE"); // exactly 16 bytes
export const TRANSCRIPT = b16("TRANSCRIPT"); // granted to nobody by the fixtures

export const ZJ_EDU = b32("ZJ-EDU");
export const ZJ_MARKET = b32("ZJ-MARKET");
export const JS_EDU = b32("JS-EDU");
export const UNKNOWN_ISSUER = b32("NOBODY");

/** A seal certificate fingerprint (SHA-256 of a stand-in DER). */
export const fingerprint = (label: string): string => ethers.sha256(ethers.toUtf8Bytes(`seal:${label}`));

/** A province CA certificate fingerprint (SHA-256 of a stand-in DER). */
export const caFingerprint = (label: string): string => ethers.sha256(ethers.toUtf8Bytes(`ca:${label}`));

/** The CA fingerprints the fixtures register issuers under. */
export const CA = { zj: caFingerprint("ZJ:1"), js: caFingerprint("JS:1") } as const;

export const IssuerStatus = { None: 0n, Active: 1n, Suspended: 2n } as const;

// ---------------------------------------------------------------- fixtures

async function deployWithProvinces({ ethers }: NetworkConnection) {
  const s = await ethers.getSigners();
  const accounts = {
    deployer: s[0],
    admin: s[1],
    zjAuthority: s[2],
    jsAuthority: s[3],
    gdAuthority: s[4],
    zjEdu: s[5],
    zjMarket: s[6],
    jsEdu: s[7],
    outsider: s[8],
    spare: s.slice(9),
  };
  const registry = await ethers.deployContract("CertificateRegistry", [accounts.admin.address], accounts.deployer);
  await registry.waitForDeployment();
  const asAdmin = registry.connect(accounts.admin);
  await (await asAdmin.admitProvince(ZJ, "Zhejiang", accounts.zjAuthority.address)).wait();
  await (await asAdmin.admitProvince(JS, "Jiangsu", accounts.jsAuthority.address)).wait();
  await (await asAdmin.admitProvince(GD, "Guangdong", accounts.gdAuthority.address)).wait();
  return { registry, ...accounts };
}

type ProvincesContext = Awaited<ReturnType<typeof deployWithProvinces>>;

async function registerIssuers(ctx: ProvincesContext) {
  const { registry, zjAuthority, jsAuthority, zjEdu, zjMarket, jsEdu } = ctx;
  const fingerprints = {
    zjEdu: fingerprint("ZJ-EDU:1"),
    zjMarket: fingerprint("ZJ-MARKET:1"),
    jsEdu: fingerprint("JS-EDU:1"),
  };
  const zj = registry.connect(zjAuthority);
  const js = registry.connect(jsAuthority);
  await (
    await zj.registerIssuer(ZJ, ZJ_EDU, zjEdu.address, "Zhejiang Education Department", fingerprints.zjEdu, CA.zj, [
      DIPLOMA,
      DEGREE,
    ])
  ).wait();
  await (
    await zj.registerIssuer(
      ZJ,
      ZJ_MARKET,
      zjMarket.address,
      "Zhejiang Market Regulation",
      fingerprints.zjMarket,
      CA.zj,
      [LICENCE],
    )
  ).wait();
  await (
    await js.registerIssuer(JS, JS_EDU, jsEdu.address, "Jiangsu Education Department", fingerprints.jsEdu, CA.js, [
      DIPLOMA,
    ])
  ).wait();
  return { ...ctx, fingerprints };
}

// Batches are pure data: built once per run, whichever fixture needs them first.
let batchCache: { zj1024: Batch; js5: Batch } | undefined;
export function batches() {
  batchCache ??= {
    zj1024: makeBatch(ZJ_EDU, DIPLOMA, 1024, "ZJ-EDU-2024"),
    js5: makeBatch(JS_EDU, DIPLOMA, 5, "JS-EDU-2024"),
  };
  return batchCache;
}

/** Registry with provinces ZJ, JS, GD admitted by the consortium admin. */
export async function provincesFixture(conn: NetworkConnection) {
  return deployWithProvinces(conn);
}

/** provincesFixture + issuers ZJ-EDU (DIPLOMA, DEGREE), ZJ-MARKET (LICENCE), JS-EDU (DIPLOMA). */
export async function issuersFixture(conn: NetworkConnection) {
  return registerIssuers(await deployWithProvinces(conn));
}

/**
 * issuersFixture + two anchored DIPLOMA batches: 1,024 certificates of ZJ-EDU (10-level proofs)
 * and 5 of JS-EDU (an odd tree).
 */
export async function anchoredFixture(conn: NetworkConnection) {
  const ctx = await registerIssuers(await deployWithProvinces(conn));
  const { zj1024, js5 } = batches();
  await (await ctx.registry.connect(ctx.zjEdu).anchor(zj1024.root, zj1024.leafCount, DIPLOMA)).wait();
  await (await ctx.registry.connect(ctx.jsEdu).anchor(js5.root, js5.leafCount, DIPLOMA)).wait();
  return { ...ctx, zjBatch: zj1024, jsBatch: js5 };
}

// ---------------------------------------------------------------- helpers

/** Sends a transaction, waits for it and returns its receipt (throws if it reverted). */
export async function mined(tx: Promise<ContractTransactionResponse>) {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new Error("transaction was not mined");
  return receipt;
}

/** Block number and timestamp of a receipt's block. */
export async function blockOf(receipt: { blockNumber: number }) {
  const block = await ethers.provider.getBlock(receipt.blockNumber);
  if (block === null) throw new Error(`block ${receipt.blockNumber} not found`);
  return { number: BigInt(block.number), timestamp: BigInt(block.timestamp) };
}

/** Names of the registry events in a receipt, in log order. */
export function eventNames(
  registry: { interface: { parseLog(log: { topics: string[]; data: string }): { name: string } | null } },
  receipt: { logs: readonly { topics: readonly string[]; data: string }[] },
): string[] {
  return receipt.logs.map(
    (log) => registry.interface.parseLog({ topics: [...log.topics], data: log.data })?.name ?? "?",
  );
}

/** Intrinsic calldata gas of a transaction's input (EIP-2028: 4 per zero byte, 16 otherwise). */
export function calldataGas(data: string): bigint {
  let gas = 0n;
  for (const byte of ethers.getBytes(data)) gas += byte === 0 ? 4n : 16n;
  return gas;
}
