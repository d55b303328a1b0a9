/** A raw `ws` client for the emulator's Realtime endpoint tests: records every server event with its arrival time. */
import WebSocket from "ws";

export type RtEvent = Record<string, unknown> & { type: string; atNs: bigint };

const WAIT_MS = 3000;

export interface RtConnectOptions {
  flavour?: "openai" | "volcengine";
  token?: string;
  /** Appended to the URL, e.g. "&ag-coze-bot-id=7". */
  query?: string;
  headers?: Record<string, string>;
}

export class RtClient {
  readonly events: RtEvent[] = [];
  private cursor = 0;
  private waiters: Array<() => void> = [];
  private seq = 0;
  readonly closed: Promise<{ code: number; reason: string; atNs: bigint }>;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const text = (data as Buffer).toString("utf8");
      let ev: RtEvent;
      try {
        ev = { ...(JSON.parse(text) as Record<string, unknown>), atNs: process.hrtime.bigint() } as RtEvent;
      } catch {
        ev = { type: "(not json)", raw: text, atNs: process.hrtime.bigint() };
      }
      this.events.push(ev);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => resolve({ code, reason: reason.toString(), atNs: process.hrtime.bigint() })),
    );
  }

  static async connect(url: string, opts: RtConnectOptions = {}): Promise<RtClient> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.flavour === "openai") headers["OpenAI-Beta"] = "realtime=v1";
    const ws = new WebSocket(`${url}${opts.query ?? ""}`, { headers });
    const client = new RtClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return client;
  }

  /** Connects, waits for session.created, and (when `session` is given) applies it and waits for session.updated. */
  static async ready(url: string, opts: RtConnectOptions & { session?: Record<string, unknown> } = {}): Promise<RtClient> {
    const c = await RtClient.connect(url, opts);
    await c.next("session.created");
    if (opts.session) {
      c.send("session.update", { session: opts.session });
      await c.next("session.updated");
    }
    return c;
  }

  /** Sends a client event with a fresh event_id; returns the id. */
  send(type: string, fields: Record<string, unknown> = {}): string {
    const eventId = `evt_test_${++this.seq}`;
    this.ws.send(JSON.stringify({ event_id: eventId, type, ...fields }));
    return eventId;
  }

  sendRaw(data: string): void {
    this.ws.send(data);
  }

  append(payload: Buffer, chunkBytes = 640): void {
    for (let off = 0; off < payload.length; off += chunkBytes) {
      this.send("input_audio_buffer.append", { audio: payload.subarray(off, off + chunkBytes).toString("base64") });
    }
  }

  /** One append every `everyMs` on a schedule that does not drift, like a microphone; resolves with the send times. */
  async stream(payload: Buffer, chunkBytes: number, everyMs: number): Promise<bigint[]> {
    const sentAt: bigint[] = [];
    const t0 = performance.now();
    for (let i = 0, off = 0; off < payload.length; i++, off += chunkBytes) {
      const wait = t0 + i * everyMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (this.ws.readyState !== WebSocket.OPEN) break;
      sentAt.push(process.hrtime.bigint());
      this.send("input_audio_buffer.append", { audio: payload.subarray(off, off + chunkBytes).toString("base64") });
    }
    return sentAt;
  }

  /** The first not-yet-consumed event of this type (waits for it); consumes everything up to it. */
  async next(type: string, timeoutMs = WAIT_MS): Promise<RtEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex((e, idx) => idx >= this.cursor && e.type === type);
      if (i >= 0) {
        this.cursor = i + 1;
        return this.events[i] as RtEvent;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.events.slice(this.cursor).map((e) => e.type);
        throw new Error(`timed out waiting for ${type}; unconsumed events: ${seen.join(", ") || "none"}`);
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

  /** The next `error` event; fails if its code is not `code`. */
  async nextError(code: string): Promise<Record<string, unknown>> {
    const ev = await this.next("error");
    const err = ev.error as Record<string, unknown>;
    if (err.code !== code) throw new Error(`expected error ${code}, got ${JSON.stringify(err)}`);
    return err;
  }

  /** A push-to-talk turn: append, commit, response.create; resolves with the turn's events and the reply audio. */
  async turn(payload: Buffer, chunkBytes = 640): Promise<{ events: RtEvent[]; audio: Buffer; done: RtEvent }> {
    const start = this.events.length;
    this.append(payload, chunkBytes);
    this.send("input_audio_buffer.commit");
    this.send("response.create");
    const done = await this.next("response.done");
    const events = this.events.slice(start, this.cursor);
    return { events, audio: audioOf(events), done };
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close();
    await this.closed;
  }
}

/** The decoded response.audio.delta payloads, concatenated. */
export function audioOf(events: RtEvent[]): Buffer {
  return Buffer.concat(events.filter((e) => e.type === "response.audio.delta").map((e) => Buffer.from(String(e.delta), "base64")));
}

/** Event types in order, runs of audio deltas counted once. */
export function order(events: RtEvent[]): string[] {
  return events.map((e) => e.type).filter((t, i, all) => t !== "response.audio.delta" || all[i - 1] !== t);
}

/** What a spoken response sends after response.create, with text in its modalities. */
export const SPOKEN_RESPONSE = [
  "response.created",
  "response.output_item.added",
  "conversation.item.created",
  "response.content_part.added",
  "response.audio_transcript.delta",
  "response.audio.delta",
  "response.audio_transcript.done",
  "response.audio.done",
  "response.content_part.done",
  "response.output_item.done",
  "response.done",
];

/** Turn detection off, for push-to-talk on the OpenAI flavour (whose default is server VAD). */
export const PTT = { turn_detection: null };
