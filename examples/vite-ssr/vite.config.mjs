// An SSR build for node: dist/server.js plus one worker chunk per runtime.
import { defineConfig } from "vite";
import knitting from "knitting/vite";

export default defineConfig({
  plugins: [knitting({ tasks: "src/tasks.ts" })],
  build: {
    ssr: "src/server.ts",
    outDir: "dist",
    target: "node20",
    emptyOutDir: true,
  },
  logLevel: "warn",
});
