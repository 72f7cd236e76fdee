// Validates a Teams manifest.json with Microsoft's @microsoft/app-manifest,
// using the schema bundled in the package (no network).
// usage: node validate.js <node_modules dir> <manifest.json>
// Prints one error per line and exits 1 when there are errors.
"use strict";
const fs = require("fs");
const path = require("path");

const BUNDLED = "https://developer.microsoft.com/json-schemas/teams/v1.30/MicrosoftTeams.schema.json";

async function main() {
  const [modules, file] = process.argv.slice(2);
  const { AppManifestUtils } = require(path.join(modules, "@microsoft", "app-manifest"));
  const manifest = JSON.parse(fs.readFileSync(file, "utf8"));
  // Any other $schema would make the library fetch it over the network.
  if (manifest.$schema !== BUNDLED) {
    console.log(`$schema is ${JSON.stringify(manifest.$schema)}, want ${BUNDLED}`);
    process.exit(1);
  }
  const schema = await AppManifestUtils.fetchSchema(manifest.$schema);
  const errors = await AppManifestUtils.validateAgainstSchema(manifest, schema);
  for (const e of errors) console.log(e);
  console.error(`validated against ${schema.$id || BUNDLED}: ${errors.length} error(s)`);
  process.exit(errors.length === 0 ? 0 : 1);
}

main().catch((e) => {
  console.log(`validator failed: ${e && e.stack ? e.stack : e}`);
  process.exit(2);
});
