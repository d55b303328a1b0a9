/**
 * A minimal agent protocol that lives outside src/: it proves a new backend is one folder,
 * one registry line and one emulator endpoint. "loopback" speaks JSON text messages and
 * binary PCM (16 kHz, mono, s16le) both ways; its stand-in answers each turn by playing the
 * turn's own audio back.
 *
 *   client → server: {"type":"turn.begin"}, binary audio, {"type":"turn.end"} | {"type":"turn.abort"},
 *                    {"type":"reply.cancel"}
 *   server → client: {"type":"ready","room":…} once per link, then per turn {"type":"committed"},
 *                    {"type":"reply.start","id":…}, binary audio, {"type":"reply.end","id":…,"status":…}
 */
import { z } from "zod";
import type WebSocket from "ws";
import type { AgentBackend, BackendCapabilities, Credentials, TurnContext } from "../../src/agent/backend";
import { defineBackend, type BackendContext } from "../../src/agent/descriptor";
import { LinkedBackend } from "../../src/agent/link/linked-backend";
import { WsLink, type LinkProtocol } from "../../src/agent/link/ws-link";
import type { AudioFormat } from "../../src/core/media";

const PCM16K: AudioFormat = { codec: "pcm", sampleRate: 16000, channels: 1 };

const settings = z.strictObject({
  // Which room the stand-in puts the device in; it comes back in `ready`.
  room: z.string().min(1).default("lab"),
});
type LoopbackSettings = z.output<typeof settings>;

const LOOPBACK_CAPABILITIES: BackendCapabilities = { serverVad: false, interruption: true };

class LoopbackBackend extends LinkedBackend implements AgentBackend {
  readonly name = "loopback";
  readonly capabilities: BackendCapabilities = LOOPBACK_CAPABILITIES;
  protected readonly link: WsLink;
  private token: string;
  private reply: string | null = null;
  private readonly log: BackendContext<LoopbackSettings>["log"];

  constructor(ctx: BackendContext<LoopbackSettings>) {
    super();
    this.token = ctx.token;
    this.log = ctx.log.child({ backend: "loopback" });
    const protocol: LinkProtocol = {
      prepare: (url) => {
        url.searchParams.set("room", ctx.settings.room);
        return { headers: { Authorization: `Bearer ${this.token}` } };
      },
      message: (_ws, data, isBinary) => this.onMessage(data, isBinary),
      rejected: (status) => ({ problem: status === 401 ? "auth" : "server", message: `the loopback server refused the link (HTTP ${status})` }),
      closed: () => {
        this.reply = null;
      },
      heldMessage: "the loopback server refused the token",
      maxFrame: { bytes: 64 * 1024, largest: "a 20 ms audio chunk" },
      emit: (e) => this.emit(e),
    };
    this.link = new WsLink({ ...ctx.link, url: ctx.url }, protocol, this.log, ctx.clock);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      if (this.reply !== null) this.emit({ type: "reply.audio", replyId: this.reply, audio: data });
      return;
    }
    let m: { type?: unknown; id?: unknown; status?: unknown; room?: unknown };
    try {
      m = JSON.parse(data.toString("utf8")) as typeof m;
    } catch {
      return this.link.fail("protocol", "the loopback server sent a text message that is not JSON");
    }
    const id = typeof m.id === "string" ? m.id : "";
    switch (m.type) {
      case "ready":
        this.log.info({ room: typeof m.room === "string" ? m.room : null }, "loopback: in the room");
        this.negotiated = { input: PCM16K, output: PCM16K };
        this.link.ready();
        this.emit({ type: "link.ready", input: PCM16K, output: PCM16K });
        return;
      case "committed":
        this.emit({ type: "input.committed" });
        return;
      case "reply.start":
        this.reply = id;
        this.emit({ type: "reply.started", replyId: id });
        return;
      case "reply.end":
        this.reply = null;
        this.emit({ type: "reply.done", replyId: id, status: m.status === "canceled" ? "canceled" : "completed" });
        return;
    }
  }

  private send(message: object | Buffer): boolean {
    const ws = this.link.readySocket();
    if (!ws) return false;
    ws.send(Buffer.isBuffer(message) ? message : JSON.stringify(message));
    return true;
  }

  beginTurn(_turn: TurnContext): boolean {
    return this.send({ type: "turn.begin" });
  }
  appendAudio(frame: Buffer): boolean {
    return this.send(frame);
  }
  commitTurn(): boolean {
    return this.send({ type: "turn.end" });
  }
  abortTurn(): void {
    this.send({ type: "turn.abort" });
  }
  cancelReply(): boolean {
    return this.send({ type: "reply.cancel" });
  }
  submitToolOutputs(): boolean {
    return true;
  }
  resetConversation(): void {
    this.emit({ type: "conversation.reset", ok: true, message: "the loopback agent keeps no history" });
  }
  setTurnDetection(): void {}
  updateCredentials(c: Credentials): void {
    this.token = c.token;
    this.link.reconnectNow("reconnecting with the new token");
  }
}

/** The stand-in: each turn's audio comes back as its reply, in 20 ms chunks. */
function serveLoopback(ws: WebSocket, connection: { query: Record<string, string> }): void {
  let turn: Buffer[] = [];
  let replies = 0;
  let playing: NodeJS.Timeout | undefined;
  let current: string | null = null;
  const end = (status: "completed" | "canceled"): void => {
    clearInterval(playing);
    if (current !== null) ws.send(JSON.stringify({ type: "reply.end", id: current, status }));
    current = null;
  };
  ws.send(JSON.stringify({ type: "ready", room: connection.query.room ?? null }));
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      turn.push(Buffer.from(data));
      return;
    }
    const m = JSON.parse(data.toString("utf8")) as { type: string };
    if (m.type === "turn.begin" || m.type === "turn.abort") turn = [];
    else if (m.type === "reply.cancel") end("canceled");
    else if (m.type === "turn.end") {
      const audio = Buffer.concat(turn);
      turn = [];
      ws.send(JSON.stringify({ type: "committed" }));
      current = `loop-${++replies}`;
      ws.send(JSON.stringify({ type: "reply.start", id: current }));
      const chunk = 640; // 20 ms
      let at = 0;
      // Twice real time, like speech synthesis: the device's ring evens it out.
      playing = setInterval(() => {
        if (at >= audio.length) return end("completed");
        ws.send(audio.subarray(at, at + chunk));
        at += chunk;
      }, 10);
    }
  });
  ws.on("close", () => clearInterval(playing));
}

export const loopbackBackend = defineBackend({
  name: "loopback",
  title: "the loopback test protocol",
  settings,
  complete: (s) => s,
  defaultUrl: () => "ws://127.0.0.1:1/loopback",
  wireDefaults: () => ({ uplinkRate: 16000, downlinkRate: 16000, boardCodecs: false }),
  checkFormats: (_s, input, output) =>
    [input, output].every((f) => f.codec === "pcm" && f.sampleRate === 16000) ? [] : ["audio: the loopback protocol carries pcm at 16000 Hz only; set uplink/downlink codec pcm and rate 16000"],
  credentialKeys: [],
  credentials: () => ({}),
  capabilities: () => LOOPBACK_CAPABILITIES,
  create: (ctx) => new LoopbackBackend(ctx),
  emulator: { path: "/loopback", url: (base) => `${base}/loopback`, serve: serveLoopback },
});
