// `npm run bench:scale`: Node 20 cannot run TypeScript, so the driver is bundled with esbuild
// (already a dependency) into node_modules/.cache, where its packages resolve, and run from there.
// The npm script raises the open-files limit to the hard limit first (ulimit -n).
import { build } from "esbuild";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const outfile = `${root}node_modules/.cache/turnpike-scale/run-scale.mjs`;
await build({
  entryPoints: [`${root}test/scale/run-scale.ts`],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  logLevel: "warning",
});
await import(pathToFileURL(outfile).href);
