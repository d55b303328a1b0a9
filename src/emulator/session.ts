/**
 * One client connection to the emulator: decodes and validates every client event,
 * keeps the session config, collects the user's audio and runs the echo agent's
 * replies. Protocol violations get an `error` event and the connection stays open,
 * like the real service, so a client's error handling can be exercised.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import WebSocket, { type RawData } from "ws";
import { C, ErrorCode, S, decodeBase64, decodeEvent, type ChatUpdateData, type WireEvent } from "../agent/coze/protocol";
import type { Logger } from "../log/logger";
import { DEFAULT_FRAME_SIZE_MS, applyChatUpdate } from "./chat-config";
import { buildEchoReply } from "./echo-agent";
import type { ClientEventRecord, TurnRecord } from "./records";
import { AgentReply } from "./reply";

const ORIGIN_MESSAGE_MAX_BYTES = 1024;
/** Known client events the echo agent does not act on yet. */
const NOT_IMPLEMENTED = new Set<string>([C.messageCreate, C.submitToolOutputs, C.conversationClear, "input_text.generate_audio"]);
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
}

export class EmulatorSession {
  readonly received: ClientEventRecord[] = [];
  effectiveConfig: ChatUpdateData | null = null;
  open = true;
  /** Resolves when the connection has closed and every timer is cleared. */
  readonly closed: Promise<void>;

  private readonly logid = `emu${randomBytes(10).toString("hex").toUpperCase()}`;
  private requested: Record<string, unknown> = {};
  private conversationId = `conv_emu_${randomUUID()}`;
  private subscriptions: Set<string> | null = null;
  private audio: Buffer[] = [];
  private appendAtNs: bigint[] = [];
  private appendBytes: number[] = [];
  private reply: AgentReply | null = null;

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
    const atNs = process.hrtime.bigint();
    const buf = toBuffer(data);
    const raw = buf.toString("utf8");
    const decoded = decodeEvent(buf, isBinary);
    const record: ClientEventRecord = { event: decoded.ok ? decoded.event : null, raw, atNs };
    this.received.push(record);
    this.hooks.clientEvent(record);
    if (!decoded.ok) return this.violation(ErrorCode.BadParameter, decoded.reason, raw);
    const ev = decoded.event;
    this.log.debug({ session: this.info.index, event_type: ev.event_type, bytes: buf.length }, "emulator: received");
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
      case C.clear:
        this.resetBuffer();
        return this.send(S.bufferCleared);
      case C.cancel:
        if (!this.reply) return this.violation(ErrorCode.CannotCancel, "no chat is running: nothing to cancel", raw);
        return this.reply.cancel();
    }
  }

  private onChatUpdate(ev: WireEvent<Record<string, unknown>>, raw: string): void {
    const result = applyChatUpdate(this.requested, ev.data ?? {}, this.conversationId);
    if (!result.ok) return this.violation(ErrorCode.BadParameter, `chat.update: ${result.msg}`, raw);
    this.requested = result.requested;
    this.effectiveConfig = result.effective;
    this.conversationId = result.effective.chat_config?.conversation_id ?? this.conversationId;
    const subs = result.effective.event_subscriptions ?? [];
    this.subscriptions = subs.length > 0 ? new Set(subs) : null;
    const unknown = subs.filter((s) => !KNOWN_SERVER_EVENTS.has(s));
    if (unknown.length > 0) {
      this.log.info({ session: this.info.index, unknown }, "emulator: event_subscriptions names events the server never sends (typo?)");
    }
    this.send(S.chatUpdated, result.effective as Record<string, unknown>);
  }

  private onAppend(ev: WireEvent<Record<string, unknown>>, raw: string, atNs: bigint): void {
    const cfg = this.effectiveConfig as ChatUpdateData;
    if (this.reply) return this.chatRunning(raw);
    if (cfg.turn_detection?.type === "server_vad") {
      return this.violation(ErrorCode.BadParameter, "turn_detection server_vad is not implemented in the emulator yet: use client_interrupt", raw);
    }
    const codec = cfg.input_audio?.codec ?? "pcm";
    if (codec !== "pcm") return this.violation(ErrorCode.BadParameter, `codec ${codec} not implemented in the emulator yet`, raw);
    const delta = ev.data?.delta;
    if (typeof delta !== "string") {
      return this.violation(ErrorCode.BadParameter, "input_audio_buffer.append: data.delta must be a base64 string of audio", raw);
    }
    const pcm = decodeBase64(delta);
    if (!pcm) return this.violation(ErrorCode.BadParameter, "input_audio_buffer.append: data.delta is not valid base64", raw);
    if (pcm.length % 2 !== 0) {
      return this.violation(
        ErrorCode.BadParameter,
        `input_audio_buffer.append: ${pcm.length} bytes is not a whole number of 16-bit mono samples`,
        raw,
      );
    }
    this.audio.push(pcm);
    this.appendAtNs.push(atNs);
    this.appendBytes.push(pcm.length);
  }

  private onComplete(raw: string, atNs: bigint): void {
    const cfg = this.effectiveConfig as ChatUpdateData;
    if (this.reply) return this.chatRunning(raw);
    const audio = Buffer.concat(this.audio);
    if (audio.length === 0) {
      return this.violation(ErrorCode.BadParameter, "input_audio_buffer.complete: the input audio buffer is empty; append audio first", raw);
    }
    const output = cfg.output_audio;
    if (output?.codec !== "pcm" || !output.pcm_config) {
      this.resetBuffer();
      return this.violation(ErrorCode.BadParameter, `codec ${String(output?.codec)} not implemented in the emulator yet (the buffered audio was dropped)`, raw);
    }
    const turn: TurnRecord = {
      session: this.info.index,
      chatId: `chat_emu_${randomUUID()}`,
      audio,
      appendAtNs: this.appendAtNs,
      appendBytes: this.appendBytes,
      completeAtNs: atNs,
      reply: Buffer.alloc(0),
      canceled: false,
      firstAudioAtNs: null,
    };
    this.resetBuffer();
    const inputRate = cfg.input_audio?.sample_rate ?? 24000;
    const echo = buildEchoReply(audio, inputRate, output.pcm_config.sample_rate);
    this.send(S.bufferCompleted);
    this.send(S.transcriptCompleted, { content: echo.transcript });
    this.reply = new AgentReply(
      {
        send: (type, data) => this.send(type, data),
        botId: this.info.botId,
        conversationId: this.conversationId,
        chatId: turn.chatId,
        delayMs: this.replyDelayMs,
        outputRate: output.pcm_config.sample_rate,
        frameMs: output.pcm_config.frame_size_ms ?? DEFAULT_FRAME_SIZE_MS,
        limit: output.pcm_config.limit_config,
        onEnd: (sent, canceled, firstAudioAtNs) => {
          this.reply = null;
          turn.reply = Buffer.from(sent);
          turn.canceled = canceled;
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
    this.appendAtNs = [];
    this.appendBytes = [];
  }
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
