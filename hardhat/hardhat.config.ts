// Compiles ../contracts offline with the WebAssembly solc pinned in package.json: Hardhat's
// default build would download a compiler list, which this network cannot reach.
//
// ECERT_EVM picks the EVM rules the registry is compiled for and the in-process test chain
// runs (london, paris, shanghai or cancun; default cancun): consortium chains often run
// older rules than mainnet. Each target builds into its own artifacts folder, so switching
// back and forth does not recompile.
import { createRequire } from "node:module";

import hardhatEthers from "@nomicfoundation/hardhat-ethers";
import hardhatEthersChaiMatchers from "@nomicfoundation/hardhat-ethers-chai-matchers";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import { defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);
const solcVersion: string = require("solc/package.json").version;

// solc's evmVersion name -> the hardfork name Hardhat's simulated chain uses for it.
const TARGETS: Record<string, string> = {
  london: "london",
  paris: "merge",
  shanghai: "shanghai",
  cancun: "cancun",
};
const DEFAULT_EVM = "cancun";
const evm = process.env.ECERT_EVM || DEFAULT_EVM;
if (!(evm in TARGETS)) {
  throw new Error(`ECERT_EVM=${evm}: choose one of ${Object.keys(TARGETS).join(", ")}`);
}
const suffix = evm === DEFAULT_EVM ? "" : `-${evm}`;

export default defineConfig({
  plugins: [hardhatEthers, hardhatEthersChaiMatchers, hardhatMocha, hardhatNetworkHelpers],
  paths: {
    sources: "./contracts",
    tests: { mocha: "./test" },
    artifacts: `./artifacts${suffix}`,
    cache: `./cache${suffix}`,
  },
  networks: {
    default: { type: "edr-simulated", hardfork: TARGETS[evm] },
  },
  solidity: {
    version: solcVersion,
    path: require.resolve("solc/soljson.js"),
    settings: {
      evmVersion: evm,
      optimizer: { enabled: true, runs: 200 },
    },
  },
});
