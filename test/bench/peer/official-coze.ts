/**
 * The peer in the bench: what a Node developer writes with the official client, the way
 * the vendor's Node example does it. `@coze/api`'s WebSocket chat, `node-record-lpcm16`
 * (arecord) for the mic — started at each press, its chunks appended as they come — and
 * `speaker`, each reply delta written straight to it. At a press it cancels the chat, as
 * WsChatClient does at every press; a reply still playing is stopped by closing the
 * speaker with its flush, and a new one is opened for the next reply. Nothing here is
 * tuned: its numbers are the baseline talkbox must beat, and what it does wrong (appends
 * of the recorder's chunk size, a tail lost at release) is counted by the bench, not fixed.
 *
 * A child process of the bench: its configuration as one JSON argument, commands on stdin
 * (`press`, `release`, `quit`, one per line), events on stdout as JSON lines.
 */
import { randomUUID } from "node:crypto";
import readline from "node:readline";
import { CozeAPI, WebsocketsEventType } from "@coze/api";
import type { Writable } from "node:stream";
import { record } from "node-record-lpcm16";

/** The `speaker` package (no type declarations of its own): a Writable of PCM, and close(flush). */
type SpeakerStream = Writable & { close(flush: boolean): void };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Speaker = require("speaker") as new (options: Record<string, unknown>) => SpeakerStream;

export interface PeerConfig {
  /** The emulator, http:// and ws:// on the same port. */
  port: number;
  token: string;
  botId: string;
  micDevice: string;
  spkDevice: string;
  rate: number;
  /** The same `input_audio` and `output_audio` talkbox asked for: same speech, same reply. */
  inputAudio: Record<string, unknown>;
  outputAudio: Record<string, unknown>;
  /**
   * Cut each recorder chunk into appends of this many ms, as the protocol asks (10–20 ms),
   * instead of one append per chunk as the example does: the bench's measure of what the
   * official client would cost sending as many appends as talkbox does. Unset: as the example.
   */
  appendMs?: number;
}

/** What the peer tells the bench. */
export type PeerEvent =
  | { ev: "ready" }
  | { ev: "pressed" }
  | { ev: "released" }
  | { ev: "server-error"; code: unknown; msg: unknown }
  | { ev: "speaker-error"; msg: string }
  | { ev: "closed" };

const config = JSON.parse(process.argv[2] ?? "{}") as PeerConfig;
const say = (e: PeerEvent): void => void process.stdout.write(`${JSON.stringify(e)}\n`);

async function main(): Promise<void> {
  const api = new CozeAPI({ token: config.token, baseURL: `http://127.0.0.1:${config.port}`, baseWsURL: `ws://127.0.0.1:${config.port}` });
  const ws = await api.websockets.chat.create({ bot_id: config.botId }, { maxRetries: 0 } as never);
  const send = (event_type: string, data?: Record<string, unknown>): void => {
    ws.send({ id: randomUUID(), event_type, ...(data ? { data } : {}) } as never);
  };
  const openSpeaker = (): SpeakerStream => {
    const speaker = new Speaker({ channels: 1, bitDepth: 16, sampleRate: config.rate, device: config.spkDevice });
    // Closing speaker while its thread pool still writes fails that write ('write() failed: 0',
    // then 'write() call after close() call'), an 'error' event that ends the process unless
    // handled: the second thing such a client has to handle, after arecord's exit. Counted.
    speaker.on("error", (err: Error) => say({ ev: "speaker-error", msg: err.message }));
    return speaker;
  };
  let speaker = openSpeaker();
  /** Reply audio went to this speaker: a press closes it (its queue can still be playing long after the chat completed). */
  let playing = false;
  let mic: ReturnType<typeof record> | null = null;

  ws.onmessage = (data) => {
    const ev = data as unknown as { event_type: string; data?: Record<string, unknown> };
    switch (ev.event_type) {
      case WebsocketsEventType.CHAT_CREATED:
        send(WebsocketsEventType.CHAT_UPDATE, {
          chat_config: { user_id: "peer", auto_save_history: true },
          input_audio: config.inputAudio,
          output_audio: config.outputAudio,
          turn_detection: { type: "client_interrupt" },
        });
        return;
      case WebsocketsEventType.CHAT_UPDATED:
        say({ ev: "ready" });
        return;
      case WebsocketsEventType.CONVERSATION_AUDIO_DELTA:
        playing = true;
        speaker.write(Buffer.from(String(ev.data?.content), "base64"));
        return;
      case WebsocketsEventType.ERROR:
        say({ ev: "server-error", code: ev.data?.code, msg: ev.data?.msg });
        return;
    }
  };
  ws.onclose = () => {
    say({ ev: "closed" });
    process.exit(0);
  };

  const press = (): void => {
    send(WebsocketsEventType.CONVERSATION_CHAT_CANCEL);
    if (playing) {
      // speaker has no flush of its own: close(true) drops what ALSA holds; a new one plays the next reply.
      speaker.close(true);
      speaker = openSpeaker();
      playing = false;
    }
    mic = record({ sampleRate: config.rate, channels: 1, recorder: "arecord", audioType: "raw", device: config.micDevice });
    const stream = mic.stream();
    const append = (pcm: Buffer): void => send(WebsocketsEventType.INPUT_AUDIO_BUFFER_APPEND, { delta: pcm.toString("base64") });
    const slice = config.appendMs ? (config.rate / 1000) * 2 * config.appendMs : 0;
    let rest = Buffer.alloc(0);
    stream.on("data", (chunk: Buffer) => {
      if (!slice) return append(chunk);
      const all = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      let off = 0;
      for (; all.length - off >= slice; off += slice) append(all.subarray(off, off + slice));
      rest = Buffer.from(all.subarray(off));
    });
    // arecord exits 1 when stop() kills it, which the library reports as an error: the first thing such a client has to handle.
    stream.on("error", () => {});
    say({ ev: "pressed" });
  };
  const release = (): void => {
    mic?.stop();
    mic = null;
    send(WebsocketsEventType.INPUT_AUDIO_BUFFER_COMPLETE);
    say({ ev: "released" });
  };

  readline.createInterface({ input: process.stdin }).on("line", (line) => {
    if (line === "press") press();
    else if (line === "release") release();
    else if (line === "quit") ws.close();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`peer: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
