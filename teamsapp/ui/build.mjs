// Bundles the MultiLine tab and its admin page with esbuild into dist/, which
// teamsapp embeds (go:embed). Usage: node teamsapp/ui/build.mjs [--report]
// --report prints each bundle's size, raw and gzipped.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "dist");
const report = process.argv.includes("--report");

// dist/ holds only build output, besides the README that keeps the embed pattern matching.
mkdirSync(out, { recursive: true });
for (const f of readdirSync(out)) if (f !== "README.md") rmSync(path.join(out, f), { recursive: true, force: true });

const result = await esbuild.build({
  entryPoints: { tab: path.join(here, "src/tab.tsx"), admin: path.join(here, "src/admin.tsx"), review: path.join(here, "src/review.tsx") },
  outdir: out,
  bundle: true,
  splitting: true, // the Teams SDK is a chunk of its own, loaded only inside Teams
  format: "esm",
  target: ["chrome109", "edge109", "firefox115", "safari16"],
  minify: true,
  sourcemap: false,
  legalComments: "linked",
  chunkNames: "chunk-[hash]",
  define: { "process.env.NODE_ENV": '"production"' },
  metafile: true,
  logLevel: "warning",
});
for (const f of ["index.html", "admin.html", "review.html", "dev.css"]) copyFileSync(path.join(here, "public", f), path.join(out, f));
writeFileSync(path.join(out, "meta.json"), JSON.stringify(result.metafile));

if (report) {
  let total = 0, totalGz = 0;
  for (const [file, info] of Object.entries(result.metafile.outputs)) {
    if (!file.endsWith(".js")) continue;
    const gz = gzipSync(readFileSync(file)).length;
    total += info.bytes; totalGz += gz;
    const entry = info.entryPoint ? " (" + path.basename(info.entryPoint) + ")" : "";
    console.log(`${path.relative(here, file)}${entry}: ${(info.bytes / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzip`);
  }
  console.log(`all scripts: ${(total / 1024).toFixed(1)} KB, ${(totalGz / 1024).toFixed(1)} KB gzip`);
}
