// The plugins themselves, under node: Rollup, esbuild and Vite builds run
// for real (under every runtime in $KNIT_RUNTIMES), knitgen diagnostics as
// esbuild and Rollup errors (file, line, column), and regeneration in
// esbuild's, Rollup's and Vite's watch modes.
//   node plugins.test.mjs WORKDIR   (WORKDIR holds fixture/ and node_modules/)
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const work = path.resolve(process.argv[2]);
process.chdir(work);
const { rollup, watch } = await import(path.join(work, "node_modules/rollup/dist/es/rollup.js"));
const esbuild = (await import(path.join(work, "node_modules/esbuild/lib/main.js"))).default;
const vite = await import(path.join(work, "node_modules/vite/dist/node/index.js"));
const rollupPlugin = (await import(path.join(work, "node_modules/knitting/rollup.js"))).default;
const esbuildPlugin = (await import(path.join(work, "node_modules/knitting/esbuild.js"))).default;
const vitePlugin = (await import(path.join(work, "node_modules/knitting/vite.js"))).default;
// [name, command words], from plugins.sh; node alone when run by hand
const runtimes = (process.env.KNIT_RUNTIMES ?? "").split("\n").filter(Boolean).map((l) => l.split("\x1f")).map(([name, ...cmd]) => [name, cmd]);
if (runtimes.length === 0) runtimes.push(["node", [process.execPath]]);
console.log(`# bundles run under ${runtimes.map(([n]) => n).join(", ")}`);

let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (err) {
    failed++;
    console.log(`not ok - ${name}\n${err.stack}`);
  }
}

async function until(what, ms, probe) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (probe()) return;
    await sleep(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

// Runs a bundled fixture/app.mjs from another folder under every runtime.
function runEverywhere(entry) {
  for (const [name, [cmd, ...args]] of runtimes) {
    let out;
    try {
      out = execFileSync(cmd, [...args, path.resolve(entry)], { cwd: "/", encoding: "utf8", timeout: 30_000, stdio: "pipe" });
    } catch (e) {
      throw new Error(`${entry} under ${name}: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
    }
    assert.match(out, /fixture ok/, `${entry} under ${name}`);
  }
}

await check("rollup: bundle runs on worker threads through the generated table", async () => {
  const bundle = await rollup({ input: "fixture/app.mjs", plugins: [rollupPlugin({ tasks: "fixture/tasks.mjs" })], onwarn: () => {} });
  await bundle.write({ dir: "out-rollup", format: "es", entryFileNames: "[name].mjs", chunkFileNames: "[name]-[hash].mjs" });
  await bundle.close();
  const files = fs.readdirSync("out-rollup");
  for (const rt of ["node", "deno", "bun"]) assert.ok(files.some((f) => f.startsWith(`tasks.worker.${rt}`)), `worker chunk for ${rt} in ${files}`);
  runEverywhere("out-rollup/app.mjs");
});

await check("esbuild: bundle runs on worker threads through the generated table", async () => {
  await esbuild.build({ entryPoints: ["fixture/app.mjs"], outdir: "out-esbuild", outExtension: { ".js": ".mjs" }, bundle: true, platform: "node", format: "esm", logLevel: "silent", plugins: [esbuildPlugin({ tasks: "fixture/tasks.mjs" })] });
  runEverywhere("out-esbuild/app.mjs");
});

await check("esbuild: workers are found from entries in subfolders, hashed names and chunks in a subfolder", async () => {
  // the paths to the workers depend on entryNames, chunkNames and the
  // entries' folders: the plugin used to assume the top of outdir
  const plugins = [esbuildPlugin({ tasks: "fixture/tasks.mjs" })];
  await esbuild.build({ entryPoints: ["fixture/app.mjs", "fixture/sub/entry.mjs"], outdir: "out-esbuild-names", entryNames: "[dir]/[name]-[hash]", chunkNames: "chunks/[name]-[hash]", splitting: true, minify: true, sourcemap: true, bundle: true, platform: "node", format: "esm", logLevel: "silent", plugins });
  const out = fs.readdirSync("out-esbuild-names", { recursive: true }).map(String);
  for (const pattern of [/^app-\w+\.js$/, /^sub\/entry-\w+\.js$/]) {
    const entry = out.find((f) => pattern.test(f));
    assert.ok(entry, `${pattern} in ${out}`);
    runEverywhere(path.join("out-esbuild-names", entry));
  }
});

await check("vite: a minified SSR bundle runs on worker threads through the generated table", async () => {
  await vite.build({ configFile: false, root: work, logLevel: "silent", plugins: [vitePlugin({ tasks: "fixture/tasks.mjs" })], build: { ssr: "fixture/app.mjs", outDir: "out-vite", minify: true, sourcemap: true } });
  runEverywhere("out-vite/app.js");
});

fs.writeFileSync("fixture/bad.mjs", "export const a = (x) => x;\nexport const b = 1, a = (y) => y;\n");
const expected = { line: 2, column: 21 }; // knitgen: bad.mjs:2:21: error: duplicate export 'a'

await check("esbuild: knitgen errors are esbuild errors with file, line and column", async () => {
  const err = await esbuild
    .build({ entryPoints: ["fixture/app.mjs"], outdir: "out-bad", bundle: true, platform: "node", format: "esm", write: false, logLevel: "silent", plugins: [esbuildPlugin({ tasks: "fixture/bad.mjs" })] })
    .then(() => null, (e) => e);
  assert.ok(err, "the build failed");
  const e = err.errors.find((m) => /duplicate export 'a'/.test(m.text));
  assert.ok(e, JSON.stringify(err.errors));
  assert.equal(e.location.file, "fixture/bad.mjs");
  assert.equal(e.location.line, expected.line);
  assert.equal(e.location.column, expected.column - 1); // esbuild counts from 0
  assert.match(e.location.lineText, /export const b = 1, a/);
});

await check("rollup: knitgen errors are Rollup errors with id and loc", async () => {
  const err = await rollup({ input: "fixture/app.mjs", plugins: [rollupPlugin({ tasks: "fixture/bad.mjs" })], onwarn: () => {} }).then(() => null, (e) => e);
  assert.ok(err, "the build failed");
  assert.match(err.message, /duplicate export 'a'/);
  assert.equal(err.id, path.join(work, "fixture/bad.mjs"));
  assert.equal(err.loc.line, expected.line);
  assert.equal(err.loc.column, expected.column - 1); // Rollup counts columns from 0
  assert.equal(err.plugin, "knitting");
});

const original = fs.readFileSync("fixture/more.mjs", "utf8");
const addTask = (name) => fs.writeFileSync("fixture/more.mjs", `${original}\nexport const ${name} = (x) => x;\n`);
const reexport = fs.readFileSync("fixture/tasks.mjs", "utf8");
fs.writeFileSync("fixture/tasks.mjs", reexport.replace('export { hello } from "./more.mjs";', 'export * from "./more.mjs";'));

await check("esbuild watch: a changed task module regenerates the worker entries", async () => {
  const ctx = await esbuild.context({ entryPoints: ["fixture/app.mjs"], outdir: "out-watch-esbuild", outExtension: { ".js": ".mjs" }, bundle: true, platform: "node", format: "esm", logLevel: "silent", plugins: [esbuildPlugin({ tasks: "fixture/tasks.mjs" })] });
  try {
    await ctx.watch();
    const worker = "out-watch-esbuild/tasks.worker.node.mjs";
    await until("the first build", 10_000, () => fs.existsSync(worker));
    assert.doesNotMatch(fs.readFileSync(worker, "utf8"), /fromWatchEsbuild/);
    await sleep(200);
    addTask("fromWatchEsbuild");
    await until("the new task in the esbuild worker entry", 15_000, () => fs.readFileSync(worker, "utf8").includes("fromWatchEsbuild"));
  } finally {
    await ctx.dispose();
    fs.writeFileSync("fixture/more.mjs", original);
  }
});

await check("rollup watch: a changed task module regenerates the worker chunks", async () => {
  const watcher = watch({ input: "fixture/app.mjs", plugins: [rollupPlugin({ tasks: "fixture/tasks.mjs" })], output: { dir: "out-watch-rollup", format: "es", entryFileNames: "[name].mjs" }, onwarn: () => {}, watch: { buildDelay: 50 } });
  let builds = 0;
  let error = null;
  watcher.on("event", (ev) => {
    if (ev.code === "BUNDLE_END") {
      builds++;
      ev.result.close();
    }
    if (ev.code === "ERROR") error = ev.error;
  });
  try {
    // chunk names carry a hash, and Rollup leaves the old ones: read them all
    const dir = "out-watch-rollup";
    const workerText = () =>
      (fs.existsSync(dir) ? fs.readdirSync(dir) : []).filter((n) => n.startsWith("tasks.worker.node")).map((n) => fs.readFileSync(path.join(dir, n), "utf8")).join("\n");
    await until("the first build", 15_000, () => builds >= 1 || error);
    assert.ifError(error);
    await sleep(200);
    addTask("fromWatchRollup");
    await until("the new task in the rollup worker chunk", 15_000, () => error || workerText().includes("fromWatchRollup"));
    assert.ifError(error);
  } finally {
    await watcher.close();
    fs.writeFileSync("fixture/more.mjs", original);
  }
});

await check("vite watch: a changed task module regenerates once; an idle watch stays idle", async () => {
  // knitgen regenerates at every build; a worker entry rewritten with the
  // same text used to look like a change to Vite's watcher: a rebuild loop
  let builds = 0;
  let error = null;
  const watcher = await vite.build({ configFile: false, root: work, logLevel: "silent", plugins: [vitePlugin({ tasks: "fixture/tasks.mjs" })], build: { ssr: "fixture/app.mjs", outDir: "out-watch-vite", watch: {} } });
  watcher.on("event", (ev) => {
    if (ev.code === "BUNDLE_END") {
      builds++;
      ev.result?.close?.();
    }
    if (ev.code === "ERROR") error = ev.error;
  });
  try {
    const dir = "out-watch-vite/assets";
    const text = () => (fs.existsSync(dir) ? fs.readdirSync(dir) : []).map((n) => fs.readFileSync(path.join(dir, n), "utf8")).join("\n");
    await until("the first build", 15_000, () => builds >= 1 || error);
    assert.ifError(error);
    await sleep(3000);
    assert.ok(builds <= 2, `${builds} builds without a change`);
    addTask("fromWatchVite");
    await until("the new task in the vite output", 15_000, () => error || text().includes("fromWatchVite"));
    assert.ifError(error);
    const after = builds;
    await sleep(3000);
    assert.ok(builds - after <= 2, `${builds - after} builds after one change`);
  } finally {
    await watcher.close();
    fs.writeFileSync("fixture/more.mjs", original);
  }
});

fs.writeFileSync("fixture/tasks.mjs", reexport);
console.log(failed ? `${failed} failed` : "all plugin checks passed");
process.exit(failed ? 1 : 0);
