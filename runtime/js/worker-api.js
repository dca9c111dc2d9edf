// knitting/worker: what generated worker entries import.
export { serveWorker } from "./serve.js";
