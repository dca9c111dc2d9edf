// An HTTP server (127.0.0.1 only) whose hot route, /primes?limit=N, runs on a
// knitting pool. `--selftest` starts it on a free port, makes a bounded number
// of requests to itself, checks them, and stops.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { threadId } from "node:worker_threads";
import { createPool } from "knitting";
import { renderPage } from "./render.ts";
import { countPrimes } from "./tasks.ts";

const pool = createPool({ threads: 2 })({ countPrimes });

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  try {
    if (url.pathname === "/primes") {
      const limit = Math.min(Math.max(Number(url.searchParams.get("limit")) || 1000, 2), 5_000_000);
      const report = await pool.call.countPrimes(limit);
      const json = url.searchParams.has("json");
      res.writeHead(200, { "content-type": json ? "application/json" : "text/html; charset=utf-8" });
      res.end(json ? JSON.stringify(report) : renderPage(report));
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  } catch (err) {
    res.writeHead(500, { "content-type": "text/plain" }).end(`${(err as Error).message}\n`);
  }
});

async function selftest(port: number): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const get = (path: string) => fetch(base + path, { signal: AbortSignal.timeout(10_000) });
  const reports = await Promise.all(
    Array.from({ length: 12 }, async () => (await (await get("/primes?limit=100000&json")).json()) as { count: number; thread: number }),
  );
  const page = await (await get("/primes?limit=1000")).text();
  const threads = [...new Set(reports.map((r) => r.thread))].sort();
  console.log(`12 requests: ${reports[0].count} primes below 100000; main thread ${threadId}, pool threads ${threads.join(",")}`);
  if (reports.some((r) => r.count !== 9592)) throw new Error("wrong prime count");
  if (threads.includes(threadId)) throw new Error("the hot route ran on the main thread");
  if (!page.includes("168 primes below 1000")) throw new Error(`bad page: ${page}`);
  console.log("vite-ssr ok");
}

const test = process.argv.includes("--selftest");
server.listen(test ? 0 : Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  if (!test) {
    console.log(`listening on http://127.0.0.1:${port}/primes?limit=1000000`);
    return;
  }
  selftest(port)
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(async () => {
      server.close();
      await pool.shutdown();
    });
});
