/**
 * One client connection to the emulator: decodes and validates every client event,
 * keeps the session config, collects the user's audio (push-to-talk, or cut into
 * utterances by the VAD in server_vad) and runs the echo agent's replies. Protocol
 * violations get an `error` event and the connection stays open, like the real
 * service, so a client's error handling can be exercised.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import WebSocket, { type RawData } from "ws";
import { C, ErrorCode, S, decodeBase64, decodeEvent, type ChatUpdateData, type WireEvent } from "../../agent/coze/protocol";
import type { AudioCodec } from "../../core/media";
import type { Logger } from "../../log/logger";
import { DEFAULT_PREFIX_PADDING_MS, DEFAULT_SILENCE_DURATION_MS, applyChatUpdate } from "./chat-config";
import { DEFAULT_RATE } from "../shared/output-encoder";
import { buildEchoReply, buildTextReply, type EchoReply } from "../shared/echo-agent";
import { createInputDecoder, type InputDecoder } from "../shared/input-decoder";
import { encodeReply, outputPlan } from "../shared/output-encoder";
import type { ClientEventRecord, ToolCallRecord, ToolOutputRecord, TurnRecord, VadEventRecord } from "../shared/records";
import { AgentReply } from "./reply";
import { SpeechDetector, type AppendInfo, type Utterance } from "../shared/speech-detector";
import { arrivedAt } from "../shared/arrival";

const ORIGIN_MESSAGE_MAX_BYTES = 1024;
/** What the emulator's bot says first when chat.update asks for need_play_prologue. */
const PROLOGUE = "Hello, this is the talkbox emulator. Press the button and talk.";
/** Known client events the echo agent does not act on yet. */
const NOT_IMPLEMENTED = new Set<string>(["input_text.generate_audio"]);
const KNOWN = new Set<string>([...Object.values(C), ...NOT_IMPLEMENTED]);
const KNOWN_SERVER_EVENTS = new Set<string>(Object.values(S));
/** Sent whatever event_subscriptions says (UNCONFIRMED for the real service): without them a client cannot work at all. */
const ALWAYS_SENT = new Set<string>([S.chatCreated, S.chatUpdated, S.error]);

export interface SessionInfo {
  index: number;
  botId: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
}

export interface SessionHooks {
  clientEvent(record: ClientEventRecord): void;
  turn(turn: TurnRecord): void;
  closed(): void;
  /** Scripted tool calls for the reply about to start (usually none). */
  toolCalls(): ToolCallRecord[];
  toolOutput(record: ToolOutputRecord): void;
}

/**
 * Bot ids whose sessions the emulator refuses, so clients can test what they do with each
 * refusal (`bot_id=forbidden` is refused earlier, with HTTP 403): the error answers the first
 * chat.update, with the code Coze documents for it.
 */
export const REFUSING_BOTS: Readonly<Record<string, { code: number; msg: string }>> = {
  unpublished: { code: ErrorCode.BotNotPublished, msg: "the bot is not published as an API service" },
  "no-quota": { code: ErrorCode.DailyLimit, msg: "the daily quota of the account is used up" },
  "bad-params": { code: ErrorCode.BadParameter, msg: "invalid parameter in chat_config" },
};

export class EmulatorSession {
  readonly received: ClientEventRecord[] = [];
  readonly vadEvents: VadEventRecord[] = [];
  effectiveConfig: ChatUpdateData | null = null;
  open = true;
  /** Resolves when the connection has closed and every timer is cleared. */
  readonly closed: Promise<void>;

  private readonly logid = `emu${randomBytes(10).toString("hex").toUpperCase()}`;
  private requested: Record<string, unknown> = {};
  private conversationId = `conv_emu_${randomUUID()}`;
  private subscriptions: Set<string> | null = null;
  private prologuePlayed = false;
  private input: InputPipeline | null = null;
  private audio: Buffer[] = [];
  private appends: AppendInfo[] = [];
  private reply: AgentReply | null = null;
  /**
   * Client events are handled one after another: building a reply or a VAD loads WASM
   * asynchronously, and what the client sends meanwhile must see the result.
   */
  private work: Promise<void> = Promise.resolve();

  constructor(
    readonly info: SessionInfo,
    private readonly ws: WebSocket,
    private readonly log: Logger,
    private readonly replyDelayMs: number,
    private readonly hooks: SessionHooks,
  ) {
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        this.open = false;
        this.reply?.abort();
        this.reply = null;
        this.input?.detector?.close();
        this.input = null;
        log.info({ session: info.index, code, reason: reason.toString("utf8") }, "emulator: client disconnected");
        hooks.closed();
        resolve();
      });
    });
    // ws emits 'close' after 'error'; without a listener an error would crash the process.
    ws.on("error", (err) => log.debug({ session: info.index, err: err.message }, "emulator: socket error"));
    ws.on("message", (data, isBinary) => this.onMessage(data, isBinary));
  }

  /** Sends chat.created; call once the session is registered. */
  start(): void {
    this.send(S.chatCreated, {});
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

  private send(eventType: string, data?: Record<string, unknown>, detail?: Record<string, string>): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.subscriptions && !this.subscriptions.has(eventType) && !ALWAYS_SENT.has(eventType)) return;
    const ev: Record<string, unknown> = { id: randomUUID(), event_type: eventType };
    if (data !== undefined) ev.data = data;
    ev.detail = { logid: this.logid, ...detail };
    this.ws.send(JSON.stringify(ev));
  }

  private violation(code: number, msg: string, raw: string): void {
    this.log.info({ session: this.info.index, code, problem: msg }, "emulator: client protocol violation");
    this.send(S.error, { code, msg }, { origin_message: truncateUtf8(raw, ORIGIN_MESSAGE_MAX_BYTES) });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const atNs = arrivedAt(this.ws);
    const buf = toBuffer(data);
    const raw = buf.toString("utf8");
    const decoded = decodeEvent(buf, isBinary);
    const record: ClientEventRecord = { event: decoded.ok ? decoded.event : null, raw, atNs };
    this.received.push(record);
    this.hooks.clientEvent(record);
    this.work = this.work
      .then(() => {
        if (!this.open) return;
        if (!decoded.ok) return this.violation(ErrorCode.BadParameter, decoded.reason, raw);
        return this.handle(decoded.event, raw, buf.length, atNs);
      })
      .catch((err: unknown) => {
        // A bug or a WASM module that failed to load: say so instead of going quiet.
        this.log.error({ session: this.info.index, err: (err as Error).message }, "emulator: internal error");
        this.violation(ErrorCode.Internal, `emulator internal error: ${(err as Error).message}`, raw);
      });
  }

  private handle(ev: WireEvent<Record<string, unknown>>, raw: string, bytes: number, atNs: bigint): void | Promise<void> {
    this.log.debug({ session: this.info.index, event_type: ev.event_type, bytes }, "emulator: received");
    if (!ev.id) return this.violation(ErrorCode.BadParameter, `${ev.event_type}: missing id (every client event needs a unique string id)`, raw);
    if (!KNOWN.has(ev.event_type)) return this.violation(ErrorCode.BadParameter, `unknown event_type "${ev.event_type}"`, raw);
    if (!this.effectiveConfig && ev.event_type !== C.chatUpdate) {
      return this.violation(ErrorCode.BadParameter, `${ev.event_type} before chat.update: send chat.update first and wait for chat.updated`, raw);
    }
    if (NOT_IMPLEMENTED.has(ev.event_type)) {
      return this.violation(ErrorCode.BadParameter, `${ev.event_type} is not implemented in the emulator yet`, raw);
    }
    switch (ev.event_type) {
      case C.chatUpdate:
        return this.onChatUpdate(ev, raw);
      case C.append:
        return this.onAppend(ev, raw, atNs);
      case C.complete:
        return this.onComplete(raw, atNs);
      case C.conversationClear:
        // A new context: the next reply belongs to a new conversation.
        this.conversationId = `conv_emu_${randomUUID()}`;
        return this.send(S.conversationCleared);
      case C.clear:
        this.resetBuffer();
        this.input?.detector?.clear();
        return this.send(S.bufferCleared);
      case C.cancel:
        // The official client sends a cancel at every push-to-talk press and closes its socket on
        // any error, so the service cannot be answering an idle cancel with one: ignore it.
        if (!this.reply) return this.log.debug({ session: this.info.index }, "emulator: conversation.chat.cancel with no chat running; ignored");
        return this.reply.cancel();
      case C.messageCreate:
        return this.onMessageCreate(ev, raw, atNs);
      case C.submitToolOutputs:
        return this.onSubmitToolOutputs(ev, raw, atNs);
    }
  }

  private onSubmitToolOutputs(ev: WireEvent<Record<string, unknown>>, raw: string, atNs: bigint): void {
    const name = C.submitToolOutputs;
    const reply = this.reply;
    const pending = reply?.pendingToolCalls ?? [];
    if (!reply || pending.length === 0) {
      return this.violation(ErrorCode.BadParameter, `${name}: no chat is waiting for tool outputs (send them after conversation.chat.requires_action)`, raw);
    }
    const data = ev.data ?? {};
    if (data.chat_id !== reply.chatId) {
      return this.violation(ErrorCode.BadParameter, `${name}: data.chat_id must be the id of the chat that asked (${reply.chatId}); got ${JSON.stringify(data.chat_id ?? null)}`, raw);
    }
    const outputs = data.tool_outputs;
    if (!Array.isArray(outputs) || outputs.length === 0) {
      return this.violation(ErrorCode.BadParameter, `${name}: data.tool_outputs must be a non-empty array of {tool_call_id, output}`, raw);
    }
    const answered = new Map<string, string>();
    for (const [i, o] of outputs.entries()) {
      const item = o as Record<string, unknown> | null;
      if (typeof item !== "object" || item === null || typeof item.tool_call_id !== "string" || typeof item.output !== "string") {
        return this.violation(ErrorCode.BadParameter, `${name}: tool_outputs[${i}] must be {tool_call_id: string, output: string}`, raw);
      }
      if (!pending.some((c) => c.callId === item.tool_call_id)) {
        return this.violation(ErrorCode.BadParameter, `${name}: tool_outputs[${i}].tool_call_id ${JSON.stringify(item.tool_call_id)} is not one of the pending calls (${pending.map((c) => c.callId).join(", ")})`, raw);
      }
      if (answered.has(item.tool_call_id)) {
        return this.violation(ErrorCode.BadParameter, `${name}: tool_call_id ${item.tool_call_id} is answered twice`, raw);
      }
      answered.set(item.tool_call_id, item.output);
    }
    const missing = pending.filter((c) => !answered.has(c.callId)).map((c) => c.callId);
    if (missing.length > 0) {
      return this.violation(ErrorCode.BadParameter, `${name}: answer every pending tool call in one submit; missing ${missing.join(", ")}`, raw);
    }
    for (const call of pending) {
      this.hooks.toolOutput({ endpoint: "coze", session: this.info.index, callId: call.callId, name: call.name, output: answered.get(call.callId) as string, atNs });
    }
    reply.toolOutputsSubmitted();
  }

  private async onChatUpdate(ev: WireEvent<Record<string, unknown>>, raw: string): Promise<void> {
    const refusal = REFUSING_BOTS[this.info.botId];
    if (refusal && !this.effectiveConfig) {
      // The session's own settings are refused, as Coze refuses a bot it cannot serve.
      this.log.info({ session: this.info.index, code: refusal.code }, "emulator: refusing this bot's session");
      return this.send(S.error, { code: refusal.code, msg: refusal.msg });
    }
    let requested = this.requested;
    let fallback = this.conversationId;
    const chat = ev.data?.chat_config;
    const asked = this.requested.chat_config as Record<string, unknown> | undefined;
    if (this.effectiveConfig && typeof chat === "object" && chat !== null && !("conversation_id" in chat) && (chat as Record<string, unknown>).user_id !== asked?.user_id) {
      // Another user, naming no conversation: a new one (the docs: leave conversation_id out to start one).
      const { conversation_id: _old, ...rest } = asked ?? {};
      requested = { ...this.requested, chat_config: rest };
      fallback = `conv_emu_${randomUUID()}`;
    }
    const result = applyChatUpdate(requested, ev.data ?? {}, fallback);
    if (!result.ok) return this.violation(ErrorCode.BadParameter, `chat.update: ${result.msg}`, raw);
    const before = this.effectiveConfig;
    const eff = result.effective;
    if (!before || !sameJson(before.input_audio, eff.input_audio) || !sameJson(before.turn_detection, eff.turn_detection)) {
      const input = await createInputPipeline(eff);
      if (!this.open) return input.detector?.close();
      this.input?.detector?.close();
      this.input = input;
      // Audio buffered in the old format would make no sense in the new one.
      this.resetBuffer();
    }
    this.requested = result.requested;
    this.effectiveConfig = eff;
    this.conversationId = eff.chat_config?.conversation_id ?? this.conversationId;
    const subs = eff.event_subscriptions ?? [];
    this.subscriptions = subs.length > 0 ? new Set(subs) : null;
    const unknown = subs.filter((s) => !KNOWN_SERVER_EVENTS.has(s));
    if (unknown.length > 0) {
      this.log.info({ session: this.info.index, unknown }, "emulator: event_subscriptions names events the server never sends (typo?)");
    }
    this.send(S.chatUpdated, eff as Record<string, unknown>);
    if (ev.data?.need_play_prologue === true && !this.prologuePlayed && !this.reply) {
      this.prologuePlayed = true;
      const cfg = eff;
      const outRate = outputPlan(cfg.output_audio ?? { codec: "pcm" }).rate;
      await this.startReply({ audio: Buffer.alloc(0), appends: [] }, process.hrtime.bigint(), buildTextReply(PROLOGUE, outRate));
    }
  }

  /**
   * A text turn: role user asks (the bot answers as to speech, with the text as its
   * transcript); role assistant only adds to the context.
   */
  private async onMessageCreate(ev: WireEvent<Record<string, unknown>>, raw: string, atNs: bigint): Promise<void> {
    const name = C.messageCreate;
    const data = ev.data ?? {};
    if (data.role !== "user" && data.role !== "assistant") return this.violation(ErrorCode.BadParameter, `${name}: data.role must be "user" or "assistant"; got ${JSON.stringify(data.role ?? null)}`, raw);
    if (data.content_type !== "text" && data.content_type !== "object_string") {
      return this.violation(ErrorCode.BadParameter, `${name}: data.content_type must be "text" or "object_string"; got ${JSON.stringify(data.content_type ?? null)}`, raw);
    }
    if (typeof data.content !== "string" || data.content === "") return this.violation(ErrorCode.BadParameter, `${name}: data.content must be a non-empty string`, raw);
    if (data.role === "assistant") return;
    if (this.reply) return this.chatRunning(raw);
    const outRate = outputPlan((this.effectiveConfig as ChatUpdateData).output_audio ?? { codec: "pcm" }).rate;
    await this.startReply({ audio: Buffer.alloc(0), appends: [] }, atNs, buildTextReply(data.content, outRate));
  }

  private onAppend(ev: WireEvent<Record<string, unknown>>, raw: string, atNs: bigint): void | Promise<void> {
    const input = this.input as InputPipeline;
    // In server_vad the user may talk over the reply: that is how they interrupt it.
    if (this.reply && !input.detector) return this.chatRunning(raw);
    const delta = ev.data?.delta;
    if (typeof delta !== "string") {
      return this.violation(ErrorCode.BadParameter, "input_audio_buffer.append: data.delta must be a base64 string of audio", raw);
    }
    const payload = decodeBase64(delta);
    if (!payload) return this.violation(ErrorCode.BadParameter, "input_audio_buffer.append: data.delta is not valid base64", raw);
    const decoded = input.decoder.decode(payload);
    if (!decoded.ok) return this.violation(ErrorCode.BadParameter, `input_audio_buffer.append (${input.codec}): ${decoded.problem}`, raw);
    const append = { atNs, bytes: payload.length };
    if (input.detector) return this.onVadAudio(input.detector, decoded.pcm, append);
    this.audio.push(decoded.pcm);
    this.appends.push(append);
  }

  private async onVadAudio(detector: SpeechDetector, pcm: Buffer, append: AppendInfo): Promise<void> {
    for (const ev of detector.push(pcm, append)) {
      if (ev.type === "speech_started") {
        this.vadEvent(ev.type, S.speechStarted);
        this.reply?.interrupt();
      } else {
        this.vadEvent(ev.type, S.speechStopped);
        await this.startReply(ev.utterance, append.atNs);
      }
    }
  }

  private vadEvent(type: VadEventRecord["type"], eventType: string): void {
    this.vadEvents.push({ type, atNs: process.hrtime.bigint() });
    this.send(eventType);
    this.log.debug({ session: this.info.index, vad: type }, "emulator: VAD");
  }

  private onComplete(raw: string, atNs: bigint): void | Promise<void> {
    if (this.input?.detector) {
      // Coze ignores it in server_vad: the VAD decides where a turn ends.
      this.log.debug({ session: this.info.index }, "emulator: input_audio_buffer.complete ignored in server_vad");
      return;
    }
    if (this.reply) return this.chatRunning(raw);
    const audio = Buffer.concat(this.audio);
    if (audio.length === 0) {
      return this.violation(ErrorCode.BadParameter, "input_audio_buffer.complete: the input audio buffer is empty; append audio first", raw);
    }
    const utterance = { audio, appends: this.appends };
    this.resetBuffer();
    this.send(S.bufferCompleted);
    return this.startReply(utterance, atNs);
  }

  private async startReply(utterance: Utterance, completeAtNs: bigint, scripted?: EchoReply): Promise<void> {
    const cfg = this.effectiveConfig as ChatUpdateData;
    const plan = outputPlan(cfg.output_audio ?? { codec: "pcm" });
    const turn: TurnRecord = {
      session: this.info.index,
      chatId: `chat_emu_${randomUUID()}`,
      conversationId: this.conversationId,
      ...(typeof cfg.chat_config?.user_id === "string" ? { userId: cfg.chat_config.user_id } : {}),
      audio: utterance.audio,
      appendAtNs: utterance.appends.map((a) => a.atNs),
      appendBytes: utterance.appends.map((a) => a.bytes),
      completeAtNs,
      reply: Buffer.alloc(0),
      firstAudioAtNs: null,
      canceled: false,
      canceledBy: null,
      toolCalls: [],
    };
    const echo = scripted ?? (await buildEchoReply(utterance.audio, cfg.input_audio?.sample_rate ?? DEFAULT_RATE, plan.rate));
    if (!this.open) {
      this.hooks.turn({ ...turn, canceled: true, canceledBy: "connection" });
      return;
    }
    if (!scripted || utterance.audio.length > 0) this.send(S.transcriptCompleted, { content: echo.transcript });
    turn.toolCalls = this.hooks.toolCalls();
    this.reply = new AgentReply(
      {
        send: (type, data) => this.send(type, data),
        botId: this.info.botId,
        conversationId: this.conversationId,
        metaData: cfg.chat_config?.meta_data ?? {},
        chatId: turn.chatId,
        delayMs: this.replyDelayMs,
        frames: encodeReply(echo.pcm, plan),
        frameMs: plan.frameMs,
        limit: plan.limit,
        toolCalls: turn.toolCalls,
        onEnd: (sent, canceledBy, firstAudioAtNs) => {
          this.reply = null;
          turn.reply = sent;
          turn.canceled = canceledBy !== null;
          turn.canceledBy = canceledBy;
          turn.firstAudioAtNs = firstAudioAtNs;
          this.hooks.turn(turn);
        },
      },
      echo,
    );
    this.reply.start();
  }

  private chatRunning(raw: string): void {
    this.violation(ErrorCode.ChatRunning, "a chat is already running: wait for conversation.chat.completed or send conversation.chat.cancel", raw);
  }

  private resetBuffer(): void {
    this.audio = [];
    this.appends = [];
  }
}

interface InputPipeline {
  codec: AudioCodec;
  decoder: InputDecoder;
  /** Set in server_vad. */
  detector: SpeechDetector | null;
}

async function createInputPipeline(cfg: ChatUpdateData): Promise<InputPipeline> {
  const codec = cfg.input_audio?.codec ?? "pcm";
  const rate = cfg.input_audio?.sample_rate ?? DEFAULT_RATE;
  const td = cfg.turn_detection;
  const detector =
    td?.type === "server_vad"
      ? await SpeechDetector.create({
          inputRate: rate,
          prefixPaddingMs: td.prefix_padding_ms ?? DEFAULT_PREFIX_PADDING_MS,
          silenceDurationMs: td.silence_duration_ms ?? DEFAULT_SILENCE_DURATION_MS,
        })
      : null;
  return { codec, decoder: createInputDecoder(codec, rate), detector };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Cuts to at most `max` bytes without splitting a UTF-8 character. */
function truncateUtf8(s: string, max: number): string {
  const buf = Buffer.from(s, "utf8");
  if (buf.length <= max) return s;
  return new StringDecoder("utf8").write(buf.subarray(0, max));
}
