// The plain Node.js `ws` peer of the fan-out benchmark: what most people would write instead of
// makerpulse. Every text frame from the publisher (a connection with `pub=1` in its URL) is sent
// to every other connection; each new viewer first gets one fixed "snapshot" message.
// Usage: node ws-server.js [port] [snapshot-bytes]
"use strict";
const { WebSocketServer } = require("ws");

const port = Number(process.argv[2] || 9002);
const snapshotBytes = Number(process.argv[3] || 1024);
const head = '{"type":"snapshot","pad":"';
const snapshot = head + "x".repeat(Math.max(0, snapshotBytes - head.length - 2)) + '"}';

const wss = new WebSocketServer({ host: "127.0.0.1", port, perMessageDeflate: false, backlog: 4096 });
const viewers = new Set();

wss.on("connection", (ws, req) => {
  if ((req.url || "").includes("pub=1")) {
    ws.on("message", (data, isBinary) => {
      // Frame once per viewer, as the ws README's broadcast example does.
      for (const viewer of viewers) {
        if (viewer.readyState === 1) viewer.send(data, { binary: isBinary });
      }
    });
    return;
  }
  viewers.add(ws);
  ws.on("close", () => viewers.delete(ws));
  ws.on("error", () => viewers.delete(ws));
  ws.send(snapshot);
});
wss.on("listening", () => console.log(`ws peer listening on 127.0.0.1:${port}`));
