// WebSocket + HTTP echo server, run inside a worker thread so the server side
// has its own thread, like every other peer. Uses the runtime's own server
// where it has one (Bun.serve, Deno.serve); node uses node:http and `ws`.
import { parentPort, workerData } from "node:worker_threads";
import { fns } from "./fns.mjs";

const table = [fns.echo, fns.echoObj, fns.same, fns.primes];
const onWs = (text) => {
  const m = JSON.parse(text);
  return JSON.stringify([m[0], table[m[1]](m[2])]);
};
const onHttp = (path, body) => JSON.stringify(fns[path.slice(1)](JSON.parse(body)));

async function start() {
  if (globalThis.Bun) {
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(req, srv) {
        if (srv.upgrade(req)) return;
        const url = new URL(req.url);
        return new Response(onHttp(url.pathname, await req.text()), { headers: { "content-type": "application/json" } });
      },
      websocket: { message(ws, msg) { ws.send(onWs(msg)); } },
    });
    return { kind: "Bun.serve", port: server.port };
  }
  if (globalThis.Deno) {
    let resolvePort;
    const portP = new Promise((r) => (resolvePort = r));
    Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: ({ port }) => resolvePort(port) }, async (req) => {
      if (req.headers.get("upgrade") === "websocket") {
        const { socket, response } = Deno.upgradeWebSocket(req);
        socket.onmessage = (e) => socket.send(onWs(e.data));
        return response;
      }
      const url = new URL(req.url);
      return new Response(onHttp(url.pathname, await req.text()), { headers: { "content-type": "application/json" } });
    });
    return { kind: "Deno.serve", port: await portP };
  }
  const http = await import("node:http");
  const { WebSocketServer } = await import("ws");
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const out = onHttp(req.url, body);
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(out) });
      res.end(out);
    });
  });
  server.keepAliveTimeout = 60_000;
  const wss = new WebSocketServer({ server });
  wss.on("connection", (ws) => ws.on("message", (data) => ws.send(onWs(String(data)))));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { kind: "node:http + ws", port: server.address().port };
}

parentPort.postMessage(await start());
