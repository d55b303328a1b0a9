/** A raw `ws` client for the emulator tests: records every server event with its arrival time. */
import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import type { WireEvent } from "../../src/agent/coze/protocol";

export type ServerEvent = WireEvent<Record<string, unknown>> & { atNs: bigint };

const WAIT_MS = 3000;

export class TestClient {
  readonly events: ServerEvent[] = [];
  /** Events before this index were consumed by next(). */
  private cursor = 0;
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      const text = (data as Buffer).toString("utf8");
      const ev = isBinary ? { id: "", event_type: "(binary)", data: { raw: text } } : parse(text);
      this.events.push({ ...ev, atNs: process.hrtime.bigint() });
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async connect(url: string, opts: { botId?: string; token?: string; query?: string } = {}): Promise<TestClient> {
    const ws = new WebSocket(`${url}?bot_id=${opts.botId ?? "bot1"}${opts.query ?? ""}`, {
      headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
    });
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return client;
  }

  /** Connects and configures: waits for chat.created, sends chat.update, waits for chat.updated. */
  static async ready(url: string, update: Record<string, unknown> = FAST_PCM): Promise<TestClient> {
    const c = await TestClient.connect(url);
    await c.next("chat.created");
    c.send("chat.update", update);
    await c.next("chat.updated");
    return c;
  }

  send(eventType: string, data?: Record<string, unknown>): string {
    const id = randomUUID();
    this.ws.send(JSON.stringify(data === undefined ? { id, event_type: eventType } : { id, event_type: eventType, data }));
    return id;
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  appendPcm(pcm: Buffer, chunkBytes = 640): void {
    this.appendPayloads(chunk(pcm, chunkBytes));
  }

  /** One append per payload (a PCM or G.711 chunk, or one Opus packet). */
  appendPayloads(payloads: Buffer[]): void {
    for (const p of payloads) this.send("input_audio_buffer.append", { delta: p.toString("base64") });
  }

  /**
   * Sends one append every `everyMs`, on a schedule that does not drift, like a device
   * streaming its microphone; resolves with the hrtime each one was sent at.
   */
  async streamPayloads(payloads: Buffer[], everyMs: number): Promise<bigint[]> {
    const sentAt: bigint[] = [];
    const t0 = performance.now();
    for (let i = 0; i < payloads.length; i++) {
      const wait = t0 + i * everyMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (this.ws.readyState !== WebSocket.OPEN) break;
      sentAt.push(process.hrtime.bigint());
      this.send("input_audio_buffer.append", { delta: (payloads[i] as Buffer).toString("base64") });
    }
    return sentAt;
  }

  /** The first not-yet-consumed event of this type (waits for it); consumes everything up to it. */
  async next(eventType: string, timeoutMs = WAIT_MS): Promise<ServerEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex((e, idx) => idx >= this.cursor && e.event_type === eventType);
      if (i >= 0) {
        this.cursor = i + 1;
        return this.events[i] as ServerEvent;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.events.slice(this.cursor).map((e) => e.event_type);
        throw new Error(`timed out waiting for ${eventType}; unconsumed events: ${seen.join(", ") || "none"}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Runs one push-to-talk turn of PCM; resolves with the events of the reply and its audio as sent. */
  async turn(pcm: Buffer): Promise<{ events: ServerEvent[]; audio: Buffer }> {
    const { events, payloads } = await this.turnPayloads(chunk(pcm, 640));
    return { events, audio: Buffer.concat(payloads) };
  }

  /** Runs one push-to-talk turn of encoded payloads; resolves with the reply's events and its audio deltas' payloads. */
  async turnPayloads(appends: Buffer[]): Promise<{ events: ServerEvent[]; payloads: Buffer[] }> {
    const start = this.events.length;
    this.appendPayloads(appends);
    this.send("input_audio_buffer.complete");
    await this.next("conversation.chat.completed");
    const events = this.events.slice(start, this.cursor);
    return { events, payloads: audioPayloads(events) };
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close();
    await this.closed;
  }
}

/** The decoded content of each conversation.audio.delta, in order. */
export function audioPayloads(events: ServerEvent[]): Buffer[] {
  return events.filter((e) => e.event_type === "conversation.audio.delta").map((e) => Buffer.from(String(e.data?.content), "base64"));
}

function chunk(buf: Buffer, bytes: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < buf.length; off += bytes) out.push(buf.subarray(off, off + bytes));
  return out;
}

function parse(text: string): WireEvent<Record<string, unknown>> {
  try {
    return JSON.parse(text) as WireEvent<Record<string, unknown>>;
  } catch {
    return { id: "", event_type: "(not json)", data: { raw: text } };
  }
}

/** PCM in and out at 16 kHz with pacing loose enough that replies arrive at once. */
export const FAST_PCM = {
  input_audio: { format: "pcm", codec: "pcm", sample_rate: 16000, channel: 1, bit_depth: 16 },
  output_audio: { codec: "pcm", pcm_config: { sample_rate: 16000, frame_size_ms: 20, limit_config: { period: 1, max_frame_num: 10000 } } },
};

/** A recognisable 16-bit mono test signal (not silence, so a dropped or shifted byte shows). */
export function tone(sampleRate: number, seconds: number, hz = 440): Buffer {
  const n = Math.round(sampleRate * seconds);
  const buf = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * hz * i) / sampleRate)) + (i % 7), i * 2);
  return buf;
}

/** Status and body of a refused handshake. */
export async function handshakeStatus(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.once("open", () => {
      ws.terminate();
      reject(new Error("the handshake was accepted"));
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => {
        ws.terminate();
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    ws.on("error", (err) => reject(err));
  });
}

/** A reply's events after the turn ended, runs of audio deltas counted once. */
export const REPLY_EVENTS = [
  "conversation.audio_transcript.completed",
  "conversation.chat.created",
  "conversation.chat.in_progress",
  "conversation.message.delta",
  "conversation.audio.sentence_start",
  "conversation.audio.delta",
  "conversation.message.completed",
  "conversation.audio.completed",
  "conversation.chat.completed",
];
