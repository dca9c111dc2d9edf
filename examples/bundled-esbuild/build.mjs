// Bundles src/app.ts, and the worker entries of its two task modules, into
// dist/. `node build.mjs --watch` rebuilds (and regenerates) on changes.
import * as esbuild from "esbuild";
import knitting from "knitting/esbuild";

const options = {
  entryPoints: ["src/app.ts"],
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "es2022",
  logLevel: "warning",
  plugins: [knitting({ tasks: ["src/math.ts", "src/text.ts"] })],
};

if (process.argv.includes("--watch")) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log("watching src/ (ctrl-c to stop)");
} else {
  await esbuild.build(options);
}
