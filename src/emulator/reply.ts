/**
 * One agent reply on the wire, in the order the Coze server sends it: chat created →
 * in progress → text → caption → paced audio → message/audio/chat completed. A client
 * cancel stops it mid-way with `conversation.chat.canceled`.
 */
import { randomUUID } from "node:crypto";
import { S, type LimitConfig } from "../agent/coze/protocol";
import type { EchoReply } from "./echo-agent";
import { Pacer, splitFrames } from "./pacer";

export interface ReplyContext {
  send(eventType: string, data?: Record<string, unknown>): void;
  botId: string;
  conversationId: string;
  chatId: string;
  /** How long the "agent thinks" before conversation.chat.created. */
  delayMs: number;
  outputRate: number;
  frameMs: number;
  limit?: LimitConfig;
  /** Called once: `sent` is the PCM that actually went out; `firstAudioAtNs` when its first delta did. */
  onEnd(sent: Buffer, canceled: boolean, firstAudioAtNs: bigint | null): void;
}

export class AgentReply {
  private readonly messageId = `msg_${randomUUID()}`;
  private readonly createdAt = unixNow();
  private delayTimer: NodeJS.Timeout | undefined;
  private pacer: Pacer | undefined;
  private sentBytes = 0;
  private firstAudioAtNs: bigint | null = null;
  private ended = false;

  constructor(
    private readonly ctx: ReplyContext,
    private readonly echo: EchoReply,
  ) {}

  start(): void {
    if (this.ctx.delayMs > 0) this.delayTimer = setTimeout(() => this.speak(), this.ctx.delayMs);
    else this.speak();
  }

  /** The client sent conversation.chat.cancel. */
  cancel(): void {
    if (this.ended) return;
    this.ctx.send(S.chatCanceled, { code: 2, msg: "canceled by client" });
    this.end(true);
  }

  /** The connection is gone: stop without sending anything. */
  abort(): void {
    if (!this.ended) this.end(true);
  }

  private speak(): void {
    this.delayTimer = undefined;
    const { ctx, echo } = this;
    ctx.send(S.chatCreatedConv, this.chat("created"));
    ctx.send(S.chatInProgress, this.chat("in_progress"));
    ctx.send(S.messageDelta, this.message(echo.answer, "text"));
    ctx.send(S.sentenceStart, { text: echo.answer });
    const frames = splitFrames(echo.pcm, ctx.outputRate, ctx.frameMs);
    this.pacer = new Pacer(
      frames,
      { frameMs: ctx.frameMs, limit: ctx.limit },
      (frame) => {
        this.sentBytes += frame.length;
        ctx.send(S.audioDelta, this.message(frame.toString("base64"), "audio"));
        this.firstAudioAtNs ??= process.hrtime.bigint();
      },
      () => this.finish(),
    );
    this.pacer.start();
  }

  private finish(): void {
    const { ctx, echo } = this;
    ctx.send(S.messageCompleted, this.message(echo.answer, "text"));
    ctx.send(S.audioCompleted, this.message("", "audio"));
    const outputTokens = Math.ceil(echo.answer.length / 4);
    const inputTokens = Math.ceil(echo.transcript.length / 4);
    ctx.send(S.chatCompleted, {
      ...this.chat("completed"),
      completed_at: unixNow(),
      usage: { token_count: inputTokens + outputTokens, input_count: inputTokens, output_count: outputTokens },
    });
    this.end(false);
  }

  private end(canceled: boolean): void {
    this.ended = true;
    if (this.delayTimer) clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
    this.pacer?.stop();
    this.ctx.onEnd(this.echo.pcm.subarray(0, this.sentBytes), canceled, this.firstAudioAtNs);
  }

  private chat(status: string): Record<string, unknown> {
    return {
      id: this.ctx.chatId,
      conversation_id: this.ctx.conversationId,
      bot_id: this.ctx.botId,
      created_at: this.createdAt,
      status,
      last_error: { code: 0, msg: "" },
    };
  }

  private message(content: string, contentType: "text" | "audio"): Record<string, unknown> {
    return {
      id: this.messageId,
      conversation_id: this.ctx.conversationId,
      bot_id: this.ctx.botId,
      chat_id: this.ctx.chatId,
      role: "assistant",
      type: "answer",
      content,
      content_type: contentType,
    };
  }
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
