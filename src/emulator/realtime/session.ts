/**
 * One client connection to the Realtime endpoint (`/v1/realtime`), as OpenAI or as the
 * Volcengine AI gateway behaves: decodes and checks every client event, keeps the session
 * and the conversation, collects the user's audio (client commits, or utterances cut by
 * server VAD) and runs the echo agent's responses. Bad client events get an `error` event
 * and the connection stays open, as on the real services.
 */
import WebSocket, { type RawData } from "ws";
import { decodeBase64 } from "../../agent/coze/protocol";
import type { AudioCodec } from "../../core/media";
import type { Logger } from "../../log/logger";
import { buildEchoReply, buildTextReply, type EchoReply } from "../shared/echo-agent";
import { spokenText } from "../shared/speech-tone";
import { createInputDecoder, type InputDecoder } from "../shared/input-decoder";
import { encodeReply } from "../shared/output-encoder";
import type { ToolCallRecord, ToolOutputRecord, VadEventRecord } from "../shared/records";
import { SPEECH_START_MS, SpeechDetector, type AppendInfo, type Utterance } from "../shared/speech-detector";
import { Conversation } from "./conversation";
import { newId } from "./ids";
import type {
  CommitRecord,
  Flavour,
  FunctionCallOutputRecord,
  RealtimeClientEventRecord,
  RealtimeErrorRecord,
  RealtimeResponseRecord,
} from "./records";
import { RealtimeResponse } from "./response";
import { DEFAULT_VAD, applySessionUpdate, audioFormat, defaultSession, isObj } from "./session-config";
import { arrivedAt } from "../shared/arrival";

type Obj = Record<string, unknown>;

/** OpenAI refuses to commit less than this. */
export const MIN_COMMIT_MS = 100;
/** Audio per response.audio.delta. */
export const DELTA_MS = 50;
/** The gateway keeps at most this many turns of history per connection. */
export const VOLCENGINE_HISTORY_TURNS = 10;

export type RealtimePacing = "realtime" | "fast";

export interface RealtimeSessionInfo {
  index: number;
  flavour: Flavour;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  model: string;
  cozeBotId: string | null;
  customModel: string | null;
  /** X-Conversation-Id: the session id to continue, or null for a new one. */
  conversationId: string | null;
}

export interface RealtimeSessionOptions {
  /** How long the "model thinks" after response.created. */
  replyDelayMs: number;
  pacing: RealtimePacing;
  /** Volcengine: close after this long without a client message. */
  idleCloseMs: number;
}

export interface RealtimeHooks {
  clientEvent(record: RealtimeClientEventRecord): void;
  /** A response ended (completed, cancelled, or cut by the connection closing). */
  response(record: RealtimeResponseRecord): void;
  closed(): void;
  toolCalls(): ToolCallRecord[];
  toolOutput(record: ToolOutputRecord): void;
}

interface InputPipeline {
  codec: AudioCodec;
  rate: number;
  decoder: InputDecoder;
  /** Set while turn_detection is server_vad. */
  detector: SpeechDetector | null;
}

type ParsedEvent = { ok: true; event: Obj; type: string } | { ok: false; code: string; message: string };

const CLIENT_EVENTS = [
  "session.update",
  "input_audio_buffer.append",
  "input_audio_buffer.commit",
  "input_audio_buffer.clear",
  "conversation.item.create",
  "conversation.item.truncate",
  "response.create",
  "response.cancel",
];

export class RealtimeSession {
  readonly received: RealtimeClientEventRecord[] = [];
  readonly commits: CommitRecord[] = [];
  readonly responses: RealtimeResponseRecord[] = [];
  readonly functionCallOutputs: FunctionCallOutputRecord[] = [];
  readonly errors: RealtimeErrorRecord[] = [];
  readonly vadEvents: VadEventRecord[] = [];
  readonly sessionId: string;
  session: Obj;
  open = true;
  idleClosedAtNs: bigint | null = null;
  /** Resolves when the connection has closed and every timer is cleared. */
  readonly closed: Promise<void>;

  private readonly conversation: Conversation;
  private readonly cozeBot: boolean;
  /** Volcengine: a client event other than session.update has arrived, so the session is fixed. */
  private configured = false;
  private input: InputPipeline | null = null;
  private buffer: Buffer[] = [];
  private bufferAppends: AppendInfo[] = [];
  /** Input audio received so far (server VAD's audio_start_ms/audio_end_ms count from it). */
  private receivedMs = 0;
  private vadItemId: string | null = null;
  /** The latest user audio: what the echo agent says back. */
  private lastUser: { pcm: Buffer; rate: number } | null = null;
  /** The latest user turn when it was typed (a user message item with input_text): what the bot answers. */
  private lastUserText: string | null = null;
  private response: RealtimeResponse | null = null;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Client events are handled one after another (WASM loads and resampling are asynchronous). */
  private work: Promise<void> = Promise.resolve();

  constructor(
    readonly info: RealtimeSessionInfo,
    private readonly ws: WebSocket,
    private readonly log: Logger,
    private readonly opts: RealtimeSessionOptions,
    private readonly hooks: RealtimeHooks,
  ) {
    this.sessionId = info.conversationId ?? newId("sess");
    this.session = defaultSession(info.flavour, this.sessionId, info.customModel ?? info.model);
    this.conversation = new Conversation(info.flavour === "volcengine" ? VOLCENGINE_HISTORY_TURNS : null);
    this.cozeBot = info.flavour === "volcengine" && info.cozeBotId !== null;
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        this.open = false;
        clearTimeout(this.idleTimer);
        this.response?.abort();
        this.response = null;
        this.input?.detector?.close();
        this.input = null;
        log.info({ realtime: info.index, code, reason: reason.toString("utf8") }, "emulator: realtime client disconnected");
        hooks.closed();
        resolve();
      });
    });
    // ws emits 'close' after 'error'; without a listener an error would crash the process.
    ws.on("error", (err) => log.debug({ realtime: info.index, err: err.message }, "emulator: realtime socket error"));
    ws.on("message", (data, isBinary) => this.onMessage(data, isBinary));
  }

  /** Sends session.created; call once the session is registered. */
  start(): void {
    this.send("session.created", { session: this.session });
    this.work = this.work.then(async () => {
      const input = await createInputPipeline(this.info.flavour, this.session);
      if (this.open) this.input = input;
      else input.detector?.close();
    });
    this.armIdle();
  }

  inject(data: string | Buffer, binary: boolean): void {
    this.ws.send(binary && typeof data === "string" ? Buffer.from(data, "utf8") : data, { binary });
  }

  terminate(): void {
    this.ws.terminate();
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  private send(type: string, fields: Obj = {}): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify({ event_id: newId("event"), type, ...fields }));
  }

  private error(type: string, code: string | null, message: string, eventId: string | null, param: string | null = null): void {
    this.errors.push({ type, code, message, eventId, atNs: process.hrtime.bigint() });
    this.log.info({ realtime: this.info.index, code, problem: message }, "emulator: realtime client error");
    this.send("error", { error: { type, code, message, param, event_id: eventId } });
  }

  private invalid(code: string, message: string, eventId: string | null, param: string | null = null): void {
    this.error("invalid_request_error", code, message, eventId, param);
  }

  private armIdle(): void {
    if (this.info.flavour !== "volcengine") return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.idleClose(), this.opts.idleCloseMs);
  }

  private idleClose(): void {
    if (!this.open) return;
    this.idleClosedAtNs = process.hrtime.bigint();
    const secs = Math.round(this.opts.idleCloseMs / 1000);
    this.error(
      "invalid_request_error",
      "idle_timeout",
      `no client message for ${secs} s: the gateway closes the connection. Send a client event at least every ${secs} s to keep it open`,
      null,
    );
    this.ws.close(1000, "idle timeout");
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const atNs = arrivedAt(this.ws);
    const buf = toBuffer(data);
    const raw = buf.toString("utf8");
    const parsed = parse(raw, isBinary);
    const record: RealtimeClientEventRecord = { event: parsed.ok ? parsed.event : null, type: parsed.ok ? parsed.type : null, raw, atNs };
    this.received.push(record);
    this.hooks.clientEvent(record);
    this.armIdle();
    this.work = this.work
      .then(() => {
        if (!this.open) return;
        if (!parsed.ok) {
          this.configured = true;
          return this.invalid(parsed.code, parsed.message, null);
        }
        return this.handle(parsed.event, parsed.type, atNs);
      })
      .catch((err: unknown) => {
        // A bug or a WASM module that failed to load: say so instead of going quiet.
        this.log.error({ realtime: this.info.index, err: (err as Error).message }, "emulator: realtime internal error");
        this.error("server_error", "server_error", `emulator internal error: ${(err as Error).message}`, null);
      });
  }

  private handle(ev: Obj, type: string, atNs: bigint): void | Promise<void> {
    const eventId = typeof ev.event_id === "string" ? ev.event_id : null;
    this.log.debug({ realtime: this.info.index, type }, "emulator: realtime received");
    if (type !== "session.update") this.configured = true;
    switch (type) {
      case "session.update":
        return this.onSessionUpdate(ev, eventId);
      case "input_audio_buffer.append":
        return this.onAppend(ev, eventId, atNs);
      case "input_audio_buffer.commit":
        return this.onCommit(eventId, atNs);
      case "input_audio_buffer.clear":
        this.resetBuffer();
        this.input?.detector?.clear();
        this.vadItemId = null;
        return this.send("input_audio_buffer.cleared");
      case "response.create":
        return this.onResponseCreate(ev, eventId);
      case "response.cancel":
        return this.onResponseCancel(ev, eventId);
      case "conversation.item.create":
        return this.onItemCreate(ev, eventId, atNs);
      case "conversation.item.truncate":
        return this.onTruncate(ev, eventId, atNs);
      default:
        return this.invalid("invalid_value", `unknown event type ${JSON.stringify(type)}: client events are ${CLIENT_EVENTS.join(", ")}`, eventId, "type");
    }
  }

  private async onSessionUpdate(ev: Obj, eventId: string | null): Promise<void> {
    if (this.info.flavour === "volcengine" && this.configured) {
      return this.invalid(
        "session_update_not_allowed",
        "the gateway takes session.update only at the start of a connection, before any other client event: reconnect to change the session",
        eventId,
        "type",
      );
    }
    const result = applySessionUpdate(this.info.flavour, this.session, ev.session);
    if (!result.ok) return this.invalid("invalid_value", result.message, eventId, result.param);
    for (const i of result.ignored) this.invalid("unsupported_value", `${i.param}: ${i.message}`, eventId, i.param);
    const next = result.session;
    const before = this.session;
    if (before.input_audio_format !== next.input_audio_format || JSON.stringify(before.turn_detection) !== JSON.stringify(next.turn_detection)) {
      const input = await createInputPipeline(this.info.flavour, next);
      if (!this.open) return input.detector?.close();
      this.input?.detector?.close();
      this.input = input;
      // Audio buffered in the old format, or half an utterance, would make no sense now.
      this.resetBuffer();
      this.vadItemId = null;
    }
    this.session = next;
    this.send("session.updated", { session: next });
  }

  private onAppend(ev: Obj, eventId: string | null, atNs: bigint): void | Promise<void> {
    const input = this.input as InputPipeline;
    const payload = decodeBase64(ev.audio);
    if (!payload) return this.invalid("invalid_value", "input_audio_buffer.append: audio must be a base64 string of audio", eventId, "audio");
    const decoded = input.decoder.decode(payload);
    if (!decoded.ok) {
      return this.invalid("invalid_value", `input_audio_buffer.append (${String(this.session.input_audio_format)}): ${decoded.problem}`, eventId, "audio");
    }
    this.receivedMs += (decoded.pcm.length / 2 / input.rate) * 1000;
    const append = { atNs, bytes: payload.length };
    if (input.detector) return this.onVadAudio(input, input.detector, decoded.pcm, append);
    this.buffer.push(decoded.pcm);
    this.bufferAppends.push(append);
  }

  private async onVadAudio(input: InputPipeline, detector: SpeechDetector, pcm: Buffer, append: AppendInfo): Promise<void> {
    const td = { ...DEFAULT_VAD, ...(this.session.turn_detection as Obj) };
    for (const ev of detector.push(pcm, append)) {
      if (ev.type === "speech_started") {
        this.vadItemId = newId("item");
        this.vadEvents.push({ type: ev.type, atNs: process.hrtime.bigint() });
        this.send("input_audio_buffer.speech_started", { audio_start_ms: Math.max(0, Math.round(this.receivedMs - SPEECH_START_MS)), item_id: this.vadItemId });
        if (td.interrupt_response) this.response?.cancel("turn_detected");
        continue;
      }
      const itemId = this.vadItemId ?? newId("item");
      this.vadItemId = null;
      this.vadEvents.push({ type: ev.type, atNs: process.hrtime.bigint() });
      this.send("input_audio_buffer.speech_stopped", { audio_end_ms: Math.max(0, Math.round(this.receivedMs - Number(td.silence_duration_ms))), item_id: itemId });
      this.commit(ev.utterance, input.rate, "server_vad", itemId, append.atNs);
      if (!td.create_response) continue;
      if (this.response) {
        this.log.debug({ realtime: this.info.index }, "emulator: server VAD leaves the running response alone (interrupt_response is false)");
        continue;
      }
      await this.startResponse(null);
    }
  }

  private onCommit(eventId: string | null, atNs: bigint): void {
    const input = this.input as InputPipeline;
    if (input.detector) {
      return this.invalid(
        "commit_with_server_vad",
        "input_audio_buffer.commit while turn_detection is server_vad: the server commits when speech stops; set turn_detection to null to commit yourself",
        eventId,
      );
    }
    const audio = Buffer.concat(this.buffer);
    const ms = (audio.length / 2 / input.rate) * 1000;
    if (ms < MIN_COMMIT_MS) {
      return this.invalid(
        "input_audio_buffer_commit_empty",
        `Error committing input audio buffer: buffer too small. Expected at least ${MIN_COMMIT_MS}ms of audio, but buffer only has ${ms.toFixed(2)}ms of audio.`,
        eventId,
      );
    }
    this.commit({ audio, appends: this.bufferAppends }, input.rate, "client", newId("item"), atNs);
    this.resetBuffer();
  }

  private commit(utterance: Utterance, rate: number, by: CommitRecord["by"], itemId: string, atNs: bigint): void {
    const { audio, appends } = utterance;
    const secs = audio.length / 2 / rate;
    this.commits.push({
      itemId,
      by,
      audio,
      bytes: appends.reduce((n, a) => n + a.bytes, 0),
      ms: secs * 1000,
      appendAtNs: appends.map((a) => a.atNs),
      atNs,
    });
    this.lastUser = { pcm: audio, rate };
    this.lastUserText = null;
    const previous = this.conversation.add({ kind: "user", id: itemId });
    this.send("input_audio_buffer.committed", { previous_item_id: previous, item_id: itemId });
    const item = { id: itemId, object: "realtime.item", type: "message", status: "completed", role: "user", content: [{ type: "input_audio", transcript: null }] };
    this.send("conversation.item.created", { previous_item_id: previous, item });
    if (this.session.input_audio_transcription) {
      this.send("conversation.item.input_audio_transcription.completed", {
        item_id: itemId,
        content_index: 0,
        transcript: `(emulator heard ${secs.toFixed(2)} s of audio)`,
      });
    }
  }

  private onResponseCreate(ev: Obj, eventId: string | null): void | Promise<void> {
    if (this.response) {
      return this.invalid(
        "conversation_already_has_active_response",
        `Conversation already has an active response in progress: ${this.response.id}. Wait until the response is finished before creating a new one.`,
        eventId,
      );
    }
    const request = ev.response ?? {};
    if (!isObj(request)) return this.invalid("invalid_value", "response.create: response must be an object", eventId, "response");
    const m = request.modalities;
    if (m !== undefined && (!Array.isArray(m) || m.length === 0 || !m.every((x) => x === "text" || x === "audio"))) {
      return this.invalid("invalid_value", `response.modalities must be an array of "text" and/or "audio"; got ${JSON.stringify(m)}`, eventId, "response.modalities");
    }
    if (request.instructions !== undefined && typeof request.instructions !== "string") {
      return this.invalid("invalid_type", `response.instructions must be a string; got ${JSON.stringify(request.instructions)}`, eventId, "response.instructions");
    }
    return this.startResponse(request);
  }

  private async startResponse(request: Obj | null): Promise<void> {
    const out = audioFormat(this.info.flavour, this.session.output_audio_format) as { codec: AudioCodec; rate: number };
    const user = this.lastUser ?? { pcm: Buffer.alloc(0), rate: out.rate };
    // The gateway does not pass instructions to a Coze bot (seed 001).
    const told = this.cozeBot ? null : toldToSay(request?.instructions);
    const typed = this.lastUserText;
    const echo: EchoReply =
      told !== null
        ? { transcript: "", answer: told, pcm: spokenText(told, out.rate) }
        : typed !== null
          ? buildTextReply(typed, out.rate)
          : await buildEchoReply(user.pcm, user.rate, out.rate);
    if (!this.open) return;
    // A model told what to say, or told not to call tools, calls none (the script waits for the next response).
    const toolCalls = told !== null || request?.tool_choice === "none" ? [] : this.hooks.toolCalls();
    const record: RealtimeResponseRecord = {
      session: this.info.index,
      id: newId("resp"),
      status: "in_progress",
      cancelReason: null,
      itemId: null,
      toolCalls,
      request,
      audio: Buffer.alloc(0),
      audioMs: 0,
      createdAtNs: process.hrtime.bigint(),
      firstAudioAtNs: null,
      doneAtNs: null,
      truncate: null,
    };
    this.responses.push(record);
    const modalities = (request?.modalities ?? this.session.modalities) as string[];
    const response = new RealtimeResponse({
      send: (type, fields) => this.send(type, fields),
      record,
      delayMs: this.opts.replyDelayMs,
      frames: toolCalls.length > 0 ? [] : encodeReply(echo.pcm, { codec: out.codec, rate: out.rate, frameMs: DELTA_MS }),
      frameMs: DELTA_MS,
      // One delta per its own duration is real time; without a limit the Pacer sends faster than that.
      limit: this.opts.pacing === "realtime" ? { period: DELTA_MS / 1000, max_frame_num: 1 } : undefined,
      outputRate: out.rate,
      caption: echo.answer,
      withTranscript: modalities.includes("text"),
      addItem: (item) => this.conversation.add(item),
      onEnd: (r) => {
        if (this.response === response) this.response = null;
        this.hooks.response(r);
      },
    });
    this.response = response;
    response.start();
  }

  private onResponseCancel(ev: Obj, eventId: string | null): void {
    if (!this.response) return this.invalid("response_cancel_not_active", "Cancellation failed: no active response found", eventId);
    if (ev.response_id !== undefined && ev.response_id !== this.response.id) {
      return this.invalid("response_cancel_not_active", `Cancellation failed: response ${JSON.stringify(ev.response_id)} is not the active response (${this.response.id})`, eventId, "response_id");
    }
    if (this.cozeBot) {
      // The gateway's doc: interruption is not supported when a Coze bot answers.
      return this.invalid(
        "response_cancel_not_supported",
        "the gateway cannot interrupt a Coze bot's reply (ag-coze-bot-id): the response goes on; stop playback locally instead",
        eventId,
      );
    }
    this.response.cancel("client_cancelled");
  }

  private onItemCreate(ev: Obj, eventId: string | null, atNs: bigint): void {
    const item = ev.item;
    if (!isObj(item)) return this.invalid("invalid_value", "conversation.item.create: item must be an object", eventId, "item");
    if (item.id !== undefined && (typeof item.id !== "string" || item.id === "" || this.conversation.find(item.id))) {
      return this.invalid("invalid_value", `conversation.item.create: item.id must be a new, non-empty string; got ${JSON.stringify(item.id)}`, eventId, "item.id");
    }
    const id = typeof item.id === "string" ? item.id : newId("item");
    if (item.type === "function_call_output") {
      if (typeof item.call_id !== "string") return this.invalid("invalid_value", "function_call_output: item.call_id must be the call_id of the function_call", eventId, "item.call_id");
      if (typeof item.output !== "string") {
        return this.invalid("invalid_value", "function_call_output: item.output must be a string (JSON text of the result)", eventId, "item.output");
      }
      const call = this.conversation.findCall(item.call_id);
      if (!call) return this.invalid("invalid_value", `Tool call ID '${item.call_id}' not found in conversation.`, eventId, "item.call_id");
      const previous = this.conversation.add({ kind: "function_call_output", id, callId: item.call_id });
      this.send("conversation.item.created", {
        previous_item_id: previous,
        item: { id, object: "realtime.item", type: "function_call_output", call_id: item.call_id, output: item.output },
      });
      this.functionCallOutputs.push({ itemId: id, callId: item.call_id, output: item.output, atNs });
      this.hooks.toolOutput({ endpoint: "realtime", session: this.info.index, callId: item.call_id, name: call.name, output: item.output, atNs });
      return;
    }
    if (this.info.flavour === "volcengine") {
      return this.invalid("invalid_value", `conversation.item.create: the gateway only takes function_call_output items; got type ${JSON.stringify(item.type)}`, eventId, "item.type");
    }
    if (item.type !== "message" || !["user", "assistant", "system"].includes(item.role as string) || !Array.isArray(item.content)) {
      return this.invalid("invalid_value", "conversation.item.create: item must be a function_call_output or a message {role, content[]}", eventId, "item.type");
    }
    const role = item.role as string;
    const typed = role === "user" ? (item.content as unknown[]).map((c) => (isObj(c) && c.type === "input_text" && typeof c.text === "string" ? c.text : "")).join("") : "";
    if (typed !== "") this.lastUserText = typed;
    const previous = this.conversation.add({ kind: "message", id, role });
    this.send("conversation.item.created", { previous_item_id: previous, item: { id, object: "realtime.item", type: "message", status: "completed", role, content: item.content } });
  }

  private onTruncate(ev: Obj, eventId: string | null, atNs: bigint): void {
    const { item_id: itemId, content_index: contentIndex, audio_end_ms: audioEndMs } = ev;
    if (typeof itemId !== "string") return this.invalid("invalid_value", "conversation.item.truncate: item_id must be the assistant message's id", eventId, "item_id");
    if (contentIndex !== 0) return this.invalid("invalid_value", `conversation.item.truncate: content_index must be 0 (the audio part); got ${JSON.stringify(contentIndex)}`, eventId, "content_index");
    if (!Number.isInteger(audioEndMs) || (audioEndMs as number) < 0) {
      return this.invalid("invalid_value", `conversation.item.truncate: audio_end_ms must be a whole number of milliseconds >= 0; got ${JSON.stringify(audioEndMs)}`, eventId, "audio_end_ms");
    }
    const item = this.conversation.find(itemId);
    if (!item) return this.invalid("invalid_value", `conversation.item.truncate: no item ${itemId} in the conversation`, eventId, "item_id");
    if (item.kind !== "assistant") return this.invalid("invalid_value", `conversation.item.truncate: ${itemId} is not an assistant audio message`, eventId, "item_id");
    const r = item.response;
    if ((audioEndMs as number) > Math.ceil(r.audioMs)) {
      return this.invalid("invalid_value", `conversation.item.truncate: audio_end_ms ${String(audioEndMs)} is beyond the ${Math.ceil(r.audioMs)} ms of audio sent in ${itemId}`, eventId, "audio_end_ms");
    }
    r.truncate = { itemId, contentIndex: 0, audioEndMs: audioEndMs as number, atNs };
    this.send("conversation.item.truncated", { item_id: itemId, content_index: 0, audio_end_ms: audioEndMs });
  }

  private resetBuffer(): void {
    this.buffer = [];
    this.bufferAppends = [];
  }
}

async function createInputPipeline(flavour: Flavour, session: Obj): Promise<InputPipeline> {
  const fmt = audioFormat(flavour, session.input_audio_format) as { codec: AudioCodec; rate: number };
  const td = session.turn_detection as Obj | null;
  const detector =
    td?.type === "server_vad"
      ? await SpeechDetector.create({ inputRate: fmt.rate, prefixPaddingMs: Number(td.prefix_padding_ms), silenceDurationMs: Number(td.silence_duration_ms) })
      : null;
  return { codec: fmt.codec, rate: fmt.rate, decoder: createInputDecoder(fmt.codec, fmt.rate), detector };
}

/**
 * The emulator's model follows one kind of instruction: instructions that end in a JSON string
 * literal (as talkbox's announcements do) have it say that text, in the speech tone; any other
 * response echoes the user.
 */
function toldToSay(instructions: unknown): string | null {
  if (typeof instructions !== "string") return null;
  const m = /("(?:[^"\\]|\\.)*")\s*$/.exec(instructions);
  if (!m) return null;
  try {
    const text = JSON.parse(m[1]!) as unknown;
    return typeof text === "string" && text !== "" ? text : null;
  } catch {
    return null;
  }
}

function parse(raw: string, isBinary: boolean): ParsedEvent {
  if (isBinary) return { ok: false, code: "invalid_json", message: `a binary frame of ${raw.length} bytes: the Realtime API takes JSON text frames only` };
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    return { ok: false, code: "invalid_json", message: `not JSON: ${(err as Error).message}` };
  }
  if (!isObj(v)) return { ok: false, code: "invalid_json", message: "a client event must be a JSON object" };
  if (typeof v.type !== "string" || v.type === "") return { ok: false, code: "missing_type", message: 'a client event needs a string "type"' };
  return { ok: true, event: v, type: v.type };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
