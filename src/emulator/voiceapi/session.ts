/**
 * One client connection to the emulator's voice API (seed 002), v1 or v2, with an echo bot:
 * each user's speech, cut into utterances by the server's own recognition (WebRTC VAD and a
 * silence of SILENCE_MS), comes back as the bot's answer, resampled to the TTS rate; a text
 * (v2) comes back as the speech tone for its length; a greeting when the bot is asked to
 * speak first. What the client sends is checked as the seed describes: v1 closes the
 * connection on a bad open frame; v2 answers a bad frame with an `error` frame.
 */
import WebSocket, { type RawData } from "ws";
import { decodeBase64 } from "../../agent/coze/protocol";
import { FIELD, KIND, OVERRIDE } from "../../agent/voiceapi/names";
import type { Logger } from "../../log/logger";
import { buildEchoReply } from "../shared/echo-agent";
import { SpeechDetector } from "../shared/speech-detector";
import { spokenText } from "../shared/speech-tone";
import { arrivedAt } from "../shared/arrival";

type Obj = Record<string, unknown>;
export type VoiceApiVersion = "v1" | "v2";

/** The silence that ends an utterance for the emulator's recognition. */
export const SILENCE_MS = 500;
/** Bot audio per frame, and how often one goes out (4× real time). */
const CHUNK_MS = 100;
const CHUNK_EVERY_MS = 25;
/** What the emulator's bot attaches when a text asks for an attachment. */
export const ATTACHMENT = { type: "reference", url: "https://example.com/promo.png", text: "PROMO-2026" };
/** What the emulator's bot says when it speaks first. */
export const GREETING = "Hello! How can I help?";

export interface VoiceApiTurnRecord {
  session: number;
  /** v2: the user session's id; v1: the open frame's user id, or null. */
  userId: string | null;
  /** The user's utterance (linear16 at the STT rate), or null for a text or a greeting. */
  audio: Buffer | null;
  text: string | null;
  /** The bot's answer as sent (linear16 at the TTS rate). */
  reply: Buffer;
  /** When the utterance ended (the recognition heard the silence), and when the first bot frame went out. */
  endAtNs: bigint;
  firstAudioAtNs: bigint | null;
}

export interface VoiceApiClientMessage {
  /** The frames' kinds (v2), "binary" for a v1 audio frame, or null for one that did not parse. */
  kinds: (string | null)[];
  bytes: number;
  atNs: bigint;
}

export interface VoiceApiSessionView {
  index: number;
  version: VoiceApiVersion;
  /** The open frame as received; null until one came. */
  openFrame: Obj | null;
  sttRate: number;
  ttsRate: number;
  /** v2: every user who started a session, in order. */
  users: string[];
  received: VoiceApiClientMessage[];
  /** The `error` frames sent (v2) or why the connection was closed (v1). */
  errors: string[];
  /** Context updates and the open frame's context, per user ("" for the connection's). */
  contexts: { userId: string; context: unknown }[];
  open: boolean;
}

interface UserState {
  id: string;
  detector: Promise<SpeechDetector>;
}

export interface VoiceApiHooks {
  message(record: VoiceApiClientMessage): void;
  turn(record: VoiceApiTurnRecord): void;
  closed(): void;
}

export class VoiceApiSession {
  readonly view: VoiceApiSessionView;
  private opened = false;
  private readonly users = new Map<string, UserState>();
  /** Client messages are handled one after another (the VAD's WASM loads asynchronously). */
  private work: Promise<void> = Promise.resolve();
  /** Bot frames waiting to go out, paced. */
  private outbox: Array<() => void> = [];
  private pacer: NodeJS.Timeout | undefined;

  constructor(
    index: number,
    version: VoiceApiVersion,
    private readonly ws: WebSocket,
    private readonly log: Logger,
    /** The API key the emulator takes; null: any non-empty one. */
    private readonly apiKey: string | null,
    private readonly hooks: VoiceApiHooks,
  ) {
    this.view = { index, version, openFrame: null, sttRate: 16000, ttsRate: 16000, users: [], received: [], errors: [], contexts: [], open: true };
    ws.on("message", (data, isBinary) => this.onMessage(toBuffer(data), isBinary));
    ws.on("error", (err) => log.debug({ err: err.message }, "emulator: voice API socket error"));
    ws.on("close", () => {
      this.view.open = false;
      clearInterval(this.pacer);
      this.outbox = [];
      for (const u of this.users.values()) void u.detector.then((d) => d.close());
      hooks.closed();
    });
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const atNs = arrivedAt(this.ws);
    const frames = this.view.version === "v2" || !this.opened ? parseFrames(data, isBinary) : null;
    const kinds = frames === null ? ["binary"] : frames.ok ? frames.frames.map((f) => (typeof f[FIELD.kind.name] === "string" ? (f[FIELD.kind.name] as string) : null)) : [null];
    const record = { kinds, bytes: data.length, atNs };
    this.view.received.push(record);
    this.hooks.message(record);
    this.work = this.work
      .then(() => (this.view.version === "v1" ? this.onV1(data, isBinary, frames, atNs) : this.onV2(frames!, atNs)))
      .catch((err: unknown) => this.log.error({ err: (err as Error).message }, "emulator: voice API internal error"));
  }

  private async onV1(data: Buffer, isBinary: boolean, frames: ParsedFrames | null, atNs: bigint): Promise<void> {
    if (!this.opened) {
      // The first message is the open frame: a JSON object with the API key. Anything else closes (seed 002).
      const open = frames?.ok && frames.frames.length === 1 && !frames.array ? frames.frames[0]! : null;
      const problem = open ? this.checkOpen(open) : "the first message must be the open frame, a JSON object with api_key";
      if (problem) return this.refuse(problem);
      this.accept(open!);
      const user = typeof open![FIELD.userId.name] === "string" ? (open![FIELD.userId.name] as string) : "";
      const state = this.user(user);
      if (open![FIELD.context.name] !== undefined) this.view.contexts.push({ userId: user, context: open![FIELD.context.name] });
      if (open![FIELD.triggerBot.name] === true) this.greet(state);
      return;
    }
    if (!isBinary) {
      this.log.info("emulator: voice API v1 text message after the open frame; ignored");
      return;
    }
    if (data.length % 2 !== 0) this.log.info("emulator: voice API v1 audio frame of an odd length; its last byte is dropped");
    await this.hear(this.user(this.users.keys().next().value ?? ""), data.subarray(0, data.length - (data.length % 2)), atNs);
  }

  private async onV2(frames: ParsedFrames, atNs: bigint): Promise<void> {
    if (!frames.ok) return this.error(frames.problem);
    for (const f of frames.frames) {
      if (!this.view.open) return;
      const kind = f[FIELD.kind.name];
      if (!this.opened && kind !== KIND.open.name) {
        this.error(`${String(kind)} before open: send {"kind": "open", "api_key": "..."} first`);
        continue;
      }
      const user = f[FIELD.userId.name];
      switch (kind) {
        case KIND.open.name: {
          if (this.opened) {
            this.error("open sent twice on one connection");
            continue;
          }
          const problem = this.checkOpen(f);
          if (problem) {
            this.error(problem);
            this.ws.close(1008, "invalid open frame");
            return;
          }
          this.accept(f);
          this.send([{ kind: KIND.opened.name }]);
          continue;
        }
        case KIND.close.name:
          this.send([{ kind: KIND.closed.name }]);
          this.ws.close(1000, "closed");
          return;
        case KIND.sessionStart.name: {
          if (typeof user !== "string" || user === "") {
            this.error(`${KIND.sessionStart.name}: ${FIELD.userId.name} must be a non-empty string`);
            continue;
          }
          if (this.users.has(user)) {
            this.error(`${KIND.sessionStart.name}: user ${user} already has a session`);
            continue;
          }
          const state = this.user(user);
          this.view.users.push(user);
          if (f[FIELD.context.name] !== undefined) this.view.contexts.push({ userId: user, context: f[FIELD.context.name] });
          this.send([{ kind: KIND.sessionStarted.name, user_id: user }]);
          if (f[FIELD.triggerBot.name] === true) this.greet(state);
          continue;
        }
        case KIND.sessionEnd.name:
        case KIND.sessionAudio.name:
        case KIND.sessionText.name:
        case KIND.sessionContext.name: {
          const state = typeof user === "string" ? this.users.get(user) : undefined;
          if (!state) {
            this.error(`${String(kind)}: no session for user ${JSON.stringify(user)}: send ${KIND.sessionStart.name} for that user first`);
            continue;
          }
          if (kind === KIND.sessionEnd.name) {
            this.users.delete(state.id);
            void state.detector.then((d) => d.close());
            this.send([{ kind: KIND.sessionEnded.name, user_id: state.id }]);
          } else if (kind === KIND.sessionAudio.name) {
            const pcm = decodeBase64(f[FIELD.audio.name]);
            if (!pcm || pcm.length % 2 !== 0) {
              this.error(`${KIND.sessionAudio.name}: ${FIELD.audio.name} must be base64 linear16 (whole 16-bit samples)`);
              continue;
            }
            await this.hear(state, pcm, atNs);
          } else if (kind === KIND.sessionText.name) {
            const text = f[FIELD.text.name];
            if (typeof text !== "string" || text === "") {
              this.error(`${KIND.sessionText.name}: ${FIELD.text.name} must be a non-empty string`);
              continue;
            }
            // Asked for one, the bot also sends an attachment (not spoken), before its answer.
            if (/attachment/i.test(text)) this.send([{ kind: KIND.botAttachment.name, user_id: state.id, attachment: ATTACHMENT }]);
            this.answer(state, null, text, spokenText(text, this.view.ttsRate), atNs);
          } else {
            this.view.contexts.push({ userId: state.id, context: f[FIELD.context.name] });
          }
          continue;
        }
        default:
          this.error(`unknown kind ${JSON.stringify(kind)}`);
      }
    }
  }

  private checkOpen(f: Obj): string | null {
    const key = f[FIELD.apiKey.name];
    if (typeof key !== "string" || key === "") return "the open frame needs a non-empty api_key";
    if (this.apiKey !== null && key !== this.apiKey) return "invalid API key";
    const o = f[FIELD.overrides.name];
    if (o !== undefined && (typeof o !== "object" || o === null || Array.isArray(o))) return "overrides must be an object";
    for (const part of [OVERRIDE.stt.name, OVERRIDE.tts.name]) {
      const rate = ((o as Obj | undefined)?.[part] as Obj | undefined)?.[OVERRIDE.sampleRate.name];
      if (rate !== undefined && (!Number.isInteger(rate) || (rate as number) < 8000 || (rate as number) > 48000)) return `overrides.${part}.sample_rate must be a whole number of Hz, 8000–48000`;
    }
    return null;
  }

  private accept(f: Obj): void {
    this.opened = true;
    this.view.openFrame = f;
    const o = f[FIELD.overrides.name] as Obj | undefined;
    const rateOf = (part: string): number | undefined => (o?.[part] as Obj | undefined)?.[OVERRIDE.sampleRate.name] as number | undefined;
    this.view.sttRate = rateOf(OVERRIDE.stt.name) ?? 16000;
    this.view.ttsRate = rateOf(OVERRIDE.tts.name) ?? 16000;
  }

  private refuse(why: string): void {
    this.view.errors.push(why);
    this.log.info({ problem: why }, "emulator: voice API v1 refused the open frame; closing");
    this.ws.close(1008, why.slice(0, 100));
  }

  private error(message: string): void {
    this.view.errors.push(message);
    this.log.info({ problem: message }, "emulator: voice API error frame");
    this.send([{ kind: KIND.error.name, message }]);
  }

  private user(id: string): UserState {
    let u = this.users.get(id);
    if (!u) {
      u = { id, detector: SpeechDetector.create({ inputRate: this.view.sttRate, prefixPaddingMs: 300, silenceDurationMs: SILENCE_MS }) };
      this.users.set(id, u);
    }
    return u;
  }

  private async hear(u: UserState, pcm: Buffer, atNs: bigint): Promise<void> {
    const detector = await u.detector;
    for (const ev of detector.push(pcm, { atNs, bytes: pcm.length })) {
      if (ev.type !== "speech_stopped") continue;
      const echo = await buildEchoReply(ev.utterance.audio, this.view.sttRate, this.view.ttsRate);
      this.answer(u, ev.utterance.audio, null, echo.pcm, atNs);
    }
  }

  private greet(u: UserState): void {
    this.answer(u, null, GREETING, spokenText(GREETING, this.view.ttsRate), process.hrtime.bigint());
  }

  /** The bot's answer, in frames of CHUNK_MS, paced. */
  private answer(u: UserState, audio: Buffer | null, text: string | null, reply: Buffer, endAtNs: bigint): void {
    const record: VoiceApiTurnRecord = { session: this.view.index, userId: this.view.version === "v2" || u.id !== "" ? u.id : null, audio, text, reply, endAtNs, firstAudioAtNs: null };
    const chunk = Math.round((this.view.ttsRate * CHUNK_MS) / 1000) * 2;
    const idle = this.outbox.length === 0;
    for (let off = 0; off < reply.length; off += chunk) {
      const part = reply.subarray(off, off + chunk);
      this.outbox.push(() => {
        record.firstAudioAtNs ??= process.hrtime.bigint();
        if (this.view.version === "v1") this.ws.send(part, { binary: true });
        else this.send([{ kind: KIND.botAudio.name, user_id: u.id, audio: part.toString("base64") }]);
      });
    }
    this.outbox.push(() => this.hooks.turn(record));
    // The first frame at once (the answer's latency is what clients measure), the rest paced;
    // behind another answer still going out, in its turn.
    if (idle) this.outbox.shift()?.();
    this.pacer ??= setInterval(() => {
      const next = this.outbox.shift();
      if (next) next();
      else {
        clearInterval(this.pacer);
        this.pacer = undefined;
      }
    }, CHUNK_EVERY_MS);
  }

  private send(frames: Obj[]): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify(frames));
  }
}

type ParsedFrames = { ok: true; frames: Obj[]; array: boolean } | { ok: false; problem: string };

/** A message of JSON frames: one object or an array of them. */
function parseFrames(data: Buffer, isBinary: boolean): ParsedFrames {
  if (isBinary) return { ok: false, problem: `a binary message of ${data.length} bytes where JSON frames are expected` };
  let v: unknown;
  try {
    v = JSON.parse(data.toString("utf8"));
  } catch (err) {
    return { ok: false, problem: `not JSON: ${(err as Error).message}` };
  }
  const array = Array.isArray(v);
  const list = array ? (v as unknown[]) : [v];
  if (list.length === 0) return { ok: false, problem: "an empty frame array" };
  if (!list.every((f) => typeof f === "object" && f !== null && !Array.isArray(f))) return { ok: false, problem: "every frame must be a JSON object" };
  return { ok: true, frames: list as Obj[], array };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
