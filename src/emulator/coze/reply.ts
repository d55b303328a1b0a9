/**
 * One agent reply on the wire, in the order the Coze server sends it: chat created →
 * in progress → text → caption → paced audio → message/audio/chat completed. A client
 * cancel or new user speech (server_vad) stops it mid-way with `conversation.chat.canceled`.
 * A reply with scripted tool calls stops after in progress with `requires_action` and
 * goes on (in progress again, then the answer) once the client submits the outputs.
 */
import { randomUUID } from "node:crypto";
import { S, type LimitConfig } from "../../agent/coze/protocol";
import type { EchoReply } from "../shared/echo-agent";
import type { ReplyFrame } from "../shared/output-encoder";
import { Pacer } from "../shared/pacer";
import type { CanceledBy, ToolCallRecord } from "../shared/records";

export interface ReplyContext {
  send(eventType: string, data?: Record<string, unknown>): void;
  botId: string;
  conversationId: string;
  /** chat_config.meta_data, passed through on chat and message events as the service does. */
  metaData: Record<string, string>;
  chatId: string;
  /** How long the "agent thinks" before conversation.chat.created. */
  delayMs: number;
  /** The reply's audio, encoded; one audio delta each. */
  frames: ReplyFrame[];
  frameMs: number;
  limit?: LimitConfig;
  /** Asked for with requires_action before the answer; empty for a plain reply. */
  toolCalls: ToolCallRecord[];
  /** Called once: `sent` is the PCM of the frames that went out; `firstAudioAtNs` when the first did. */
  onEnd(sent: Buffer, canceledBy: CanceledBy | null, firstAudioAtNs: bigint | null): void;
}

export class AgentReply {
  private readonly messageId = `msg_${randomUUID()}`;
  private readonly createdAt = unixNow();
  private delayTimer: NodeJS.Timeout | undefined;
  private pacer: Pacer<ReplyFrame> | undefined;
  private sentFrames = 0;
  private firstAudioAtNs: bigint | null = null;
  private ended = false;
  private waitingForTools = false;

  constructor(
    private readonly ctx: ReplyContext,
    private readonly echo: EchoReply,
  ) {}

  start(): void {
    if (this.ctx.delayMs > 0) this.delayTimer = setTimeout(() => this.speak(), this.ctx.delayMs);
    else this.speak();
  }

  get chatId(): string {
    return this.ctx.chatId;
  }

  /** The calls still waiting for submit_tool_outputs; empty when the reply is not waiting. */
  get pendingToolCalls(): ToolCallRecord[] {
    return this.waitingForTools ? this.ctx.toolCalls : [];
  }

  /** The client submitted every pending tool output: the answer follows. */
  toolOutputsSubmitted(): void {
    if (this.ended || !this.waitingForTools) return;
    this.waitingForTools = false;
    this.ctx.send(S.chatInProgress, this.chat("in_progress"));
    this.answer();
  }

  /** The client sent conversation.chat.cancel. */
  cancel(): void {
    if (this.ended) return;
    this.ctx.send(S.chatCanceled, { code: 2, msg: "canceled by client" });
    this.end("client");
  }

  /** server_vad heard the user speak over the reply. */
  interrupt(): void {
    if (this.ended) return;
    this.ctx.send(S.chatCanceled, { code: 1, msg: "interrupted by user speech" });
    this.end("user_speech");
  }

  /** The connection is gone: stop without sending anything. */
  abort(): void {
    if (!this.ended) this.end("connection");
  }

  private speak(): void {
    this.delayTimer = undefined;
    const { ctx } = this;
    ctx.send(S.chatCreatedConv, this.chat("created"));
    ctx.send(S.chatInProgress, this.chat("in_progress"));
    if (ctx.toolCalls.length === 0) return this.answer();
    this.waitingForTools = true;
    ctx.send(S.chatRequiresAction, {
      ...this.chat("requires_action"),
      required_action: {
        type: "submit_tool_outputs",
        submit_tool_outputs: {
          tool_calls: ctx.toolCalls.map((c) => ({ id: c.callId, type: "function", function: { name: c.name, arguments: c.arguments } })),
        },
      },
    });
  }

  private answer(): void {
    const { ctx, echo } = this;
    ctx.send(S.messageDelta, this.message(echo.answer, "text"));
    ctx.send(S.sentenceStart, { text: echo.answer });
    this.pacer = new Pacer(
      ctx.frames,
      { frameMs: ctx.frameMs, limit: ctx.limit },
      (frame) => {
        this.sentFrames++;
        ctx.send(S.audioDelta, this.message(frame.payload.toString("base64"), "audio"));
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
    this.end(null);
  }

  private end(canceledBy: CanceledBy | null): void {
    this.ended = true;
    this.waitingForTools = false;
    if (this.delayTimer) clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
    this.pacer?.stop();
    const sent = Buffer.concat(this.ctx.frames.slice(0, this.sentFrames).map((f) => f.pcm));
    this.ctx.onEnd(sent, canceledBy, this.firstAudioAtNs);
  }

  private chat(status: string): Record<string, unknown> {
    return {
      id: this.ctx.chatId,
      conversation_id: this.ctx.conversationId,
      bot_id: this.ctx.botId,
      created_at: this.createdAt,
      status,
      last_error: { code: 0, msg: "" },
      meta_data: this.ctx.metaData,
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
      meta_data: this.ctx.metaData,
    };
  }
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
