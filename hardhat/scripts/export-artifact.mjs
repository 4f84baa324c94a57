// Writes the ABI and bytecode the Python side uses from Hardhat's build output for the EVM
// target ECERT_EVM names (hardhat.config.ts): ledger/abi/CertificateRegistry.json for the
// default (cancun), ledger/abi/CertificateRegistry.<evm>.json for another. With --check it
// writes nothing and exits 1 if that file is out of date with the sources, so the test command
// catches a contract edited without a rebuild.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const hardhatDir = join(here, "..");
const repo = join(hardhatDir, "..");
const name = "CertificateRegistry";
const DEFAULT_EVM = "cancun";
const evm = process.env.ECERT_EVM || DEFAULT_EVM;
const suffix = evm === DEFAULT_EVM ? "" : `-${evm}`;
const artifacts = join(hardhatDir, `artifacts${suffix}`);
const source = join(repo, "contracts", `${name}.sol`);
const built = join(artifacts, "contracts", `${name}.sol`, `${name}.json`);
const target = join(repo, "ledger", "abi", evm === DEFAULT_EVM ? `${name}.json` : `${name}.${evm}.json`);

const artifact = JSON.parse(readFileSync(built, "utf8"));
const buildInfoId = artifact.buildInfoId;
const buildInfo = JSON.parse(
  readFileSync(join(artifacts, "build-info", `${buildInfoId}.json`), "utf8"),
);
const exported = {
  contractName: artifact.contractName,
  sourceName: `contracts/${name}.sol`,
  sourceSha256: createHash("sha256").update(readFileSync(source)).digest("hex"),
  compiler: {
    version: buildInfo.solcLongVersion ?? buildInfo.solcVersion,
    settings: {
      evmVersion: buildInfo.input.settings.evmVersion,
      optimizer: buildInfo.input.settings.optimizer,
    },
  },
  abi: artifact.abi,
  bytecode: artifact.bytecode,
  deployedBytecode: artifact.deployedBytecode,
};
if (exported.compiler.settings.evmVersion !== evm) {
  console.error(`${built} was compiled for ${exported.compiler.settings.evmVersion}, not ${evm}`);
  process.exit(1);
}
const text = JSON.stringify(exported, null, 2) + "\n";

if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(target, "utf8");
  } catch {
    committed = "";
  }
  if (committed !== text) {
    console.error(
      `${target} is out of date with contracts/: run 'make build EVM=${evm}' and commit the result.`,
    );
    process.exit(1);
  }
  console.log(`${name} ${evm} artifact up to date (source sha256 ${exported.sourceSha256.slice(0, 16)}…)`);
} else {
  writeFileSync(target, text);
  const size = (exported.deployedBytecode.length - 2) / 2;
  console.log(`wrote ${target} (${evm}: deployed bytecode ${size} bytes)`);
}
