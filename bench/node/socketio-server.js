// The Socket.IO peer of the fan-out benchmark. Viewers connect over the WebSocket transport and
// get a "snapshot" event first; the publisher (a connection with `pub=1` in its URL) emits "pub"
// and every other connection gets the payload as event "m" (one broadcast, encoded once).
// Usage: node socketio-server.js [port] [snapshot-bytes]
"use strict";
const { createServer } = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] || 9003);
const snapshotBytes = Number(process.argv[3] || 1024);
const snapshot = { type: "snapshot", pad: "x".repeat(Math.max(0, snapshotBytes - 30)) };

const http = createServer();
// A saturated event loop answers heartbeats late; a longer ping timeout keeps the benchmark about
// fan-out rather than about Engine.IO dropping the publisher (the default is 20 s).
const io = new Server(http, {
  transports: ["websocket"],
  perMessageDeflate: false,
  serveClient: false,
  pingTimeout: 60000,
});

io.on("connection", (socket) => {
  const query = socket.handshake.query || {};
  if (query.pub === "1") {
    socket.on("pub", (payload) => socket.broadcast.emit("m", payload));
    return;
  }
  socket.emit("snapshot", snapshot);
});
http.listen({ host: "127.0.0.1", port, backlog: 4096 }, () =>
  console.log(`socket.io peer listening on 127.0.0.1:${port}`),
);
