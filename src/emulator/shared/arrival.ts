/**
 * When a client's bytes reached the emulator: the time of the socket read that brought them,
 * taken before ws parses it. ws hands the frames of one read to 'message' one after another,
 * and the emulator's own work on each (decoding, recording) would otherwise count as the
 * client's time: a client that sends its last appends and the commit in one write would
 * have its commit stamped after the emulator decoded those appends, one that sends the
 * commit alone would not. What the tests and the bench call "on the wire" is this.
 */
import type { Duplex } from "node:stream";
import type WebSocket from "ws";

const clocks = new WeakMap<WebSocket, () => bigint>();

/** Stamps each read of `socket` (the connection under `ws`) before ws sees it. */
export function stampArrivals(ws: WebSocket, socket: Duplex): void {
  let at = process.hrtime.bigint();
  socket.prependListener("data", () => {
    at = process.hrtime.bigint();
  });
  clocks.set(ws, () => at);
}

/** process.hrtime.bigint() of the read that brought the message being handled. */
export function arrivedAt(ws: WebSocket): bigint {
  return clocks.get(ws)?.() ?? process.hrtime.bigint();
}
