// Compiles contracts/*.sol with solcjs (node_modules/solc) through standard JSON and writes
// contracts/artifacts/<Name>.json: abi, bytecode, deployedBytecode, storageLayout, compiler
// version, source sha256 and settings.  Run by `make contracts`; Python never needs Node, it
// reads the committed artifacts (tests/chain/test_artifacts.py fails when one is stale).
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const solc = require("solc");

const EXPECTED_COMPILER = "0.8.37";
// Pinned: eth-tester's py-evm 0.12.1b1 executes Prague; solc 0.8.37 defaults to osaka.
const SETTINGS = {
  evmVersion: "prague",
  optimizer: { enabled: true, runs: 200 },
  metadata: { bytecodeHash: "none" },
  outputSelection: {
    "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "storageLayout"] },
  },
};

const here = dirname(fileURLToPath(import.meta.url));
const version = solc.version();
if (!version.startsWith(EXPECTED_COMPILER + "+")) {
  throw new Error(`solc ${version} found, ${EXPECTED_COMPILER} pinned: run npm ci`);
}

const files = readdirSync(here).filter((f) => f.endsWith(".sol")).sort();
const sources = {};
for (const f of files) sources[f] = { content: readFileSync(join(here, f), "utf8") };

const output = JSON.parse(solc.compile(JSON.stringify({ language: "Solidity", sources, settings: SETTINGS })));
const errors = (output.errors || []).filter((e) => e.severity === "error");
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length > 0) process.exit(1);

mkdirSync(join(here, "artifacts"), { recursive: true });
for (const f of files) {
  const sha256 = createHash("sha256").update(readFileSync(join(here, f))).digest("hex");
  for (const [name, c] of Object.entries(output.contracts[f])) {
    const artifact = {
      generatedBy: "contracts/compile.mjs (make contracts); do not edit",
      contractName: name,
      sourceName: f,
      sourceSha256: sha256,
      compiler: `soljson ${version}`,
      settings: { evmVersion: SETTINGS.evmVersion, optimizer: SETTINGS.optimizer, metadata: SETTINGS.metadata },
      abi: c.abi,
      bytecode: "0x" + c.evm.bytecode.object,
      deployedBytecode: "0x" + c.evm.deployedBytecode.object,
      storageLayout: c.storageLayout,
    };
    writeFileSync(join(here, "artifacts", `${name}.json`), JSON.stringify(artifact, null, 2) + "\n");
    console.log(`wrote contracts/artifacts/${name}.json`);
  }
}
