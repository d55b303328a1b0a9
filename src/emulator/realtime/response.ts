/**
 * One Realtime response on the wire. Spoken: response.created → output_item.added →
 * conversation.item.created → content_part.added → transcript delta → paced audio
 * deltas → transcript done → audio.done → content_part.done → output_item.done →
 * response.done. With scripted tool calls it speaks nothing: one function_call item per
 * call (arguments delta and done) and response.done at once. response.cancel or user
 * speech (server VAD) ends a spoken one with response.done status "cancelled".
 */
import type { LimitConfig } from "../../agent/coze/protocol";
import type { ReplyFrame } from "../shared/output-encoder";
import { Pacer } from "../shared/pacer";
import type { ToolCallRecord } from "../shared/records";
import type { HistoryItem } from "./conversation";
import { newId } from "./ids";
import type { RealtimeCancelReason, RealtimeResponseRecord } from "./records";

type Obj = Record<string, unknown>;

export interface ResponseContext {
  send(type: string, fields: Obj): void;
  /** Filled in as the response goes (status, audio, times; audioMs after each delta). */
  record: RealtimeResponseRecord;
  /** How long the "model thinks" after response.created. */
  delayMs: number;
  /** The spoken answer, one audio delta each; ignored when `record.toolCalls` is not empty. */
  frames: ReplyFrame[];
  frameMs: number;
  limit?: LimitConfig;
  outputRate: number;
  /** The assistant's words (the audio transcript). */
  caption: string;
  /** Whether audio_transcript events go out (modalities include "text"). */
  withTranscript: boolean;
  /** Puts an output item into the conversation; returns its previous_item_id. */
  addItem(item: HistoryItem): string | null;
  /** Called once, when response.done went out or the connection closed. */
  onEnd(record: RealtimeResponseRecord): void;
}

export class RealtimeResponse {
  private delayTimer: NodeJS.Timeout | undefined;
  private pacer: Pacer<ReplyFrame> | undefined;
  private sentFrames = 0;
  private message: Obj | null = null;
  private ended = false;

  constructor(private readonly ctx: ResponseContext) {}

  get id(): string {
    return this.ctx.record.id;
  }

  start(): void {
    this.ctx.send("response.created", { response: this.body("in_progress", []) });
    if (this.ctx.delayMs > 0) this.delayTimer = setTimeout(() => this.run(), this.ctx.delayMs);
    else this.run();
  }

  cancel(reason: Exclude<RealtimeCancelReason, "connection">): void {
    if (this.ended) return;
    this.stopTimers();
    const output = this.message ? [{ ...this.message, status: "incomplete", content: [this.audioPart()] }] : [];
    this.ctx.send("response.done", { response: { ...this.body("cancelled", output), status_details: { type: "cancelled", reason } } });
    this.end("cancelled", reason);
  }

  /** The connection is gone: stop without sending anything. */
  abort(): void {
    if (this.ended) return;
    this.stopTimers();
    this.end("cancelled", "connection");
  }

  private run(): void {
    this.delayTimer = undefined;
    if (this.ctx.record.toolCalls.length > 0) this.callTools(this.ctx.record.toolCalls);
    else this.speak();
  }

  private callTools(calls: ToolCallRecord[]): void {
    const { ctx } = this;
    const output: Obj[] = [];
    calls.forEach((call, outputIndex) => {
      const id = newId("item");
      const item = { id, object: "realtime.item", type: "function_call", status: "in_progress", call_id: call.callId, name: call.name, arguments: "" };
      const at = { response_id: this.id, output_index: outputIndex };
      ctx.send("response.output_item.added", { ...at, item });
      ctx.send("conversation.item.created", { previous_item_id: ctx.addItem({ kind: "function_call", id, callId: call.callId, name: call.name }), item });
      if (call.arguments !== "") ctx.send("response.function_call_arguments.delta", { ...at, item_id: id, call_id: call.callId, delta: call.arguments });
      ctx.send("response.function_call_arguments.done", { ...at, item_id: id, call_id: call.callId, name: call.name, arguments: call.arguments });
      const done = { ...item, status: "completed", arguments: call.arguments };
      ctx.send("response.output_item.done", { ...at, item: done });
      output.push(done);
    });
    ctx.send("response.done", { response: this.body("completed", output) });
    this.end("completed", null);
  }

  private speak(): void {
    const { ctx } = this;
    const itemId = newId("item");
    ctx.record.itemId = itemId;
    this.message = { id: itemId, object: "realtime.item", type: "message", status: "in_progress", role: "assistant", content: [] };
    const at = { response_id: this.id, item_id: itemId, output_index: 0, content_index: 0 };
    ctx.send("response.output_item.added", { response_id: this.id, output_index: 0, item: this.message });
    ctx.send("conversation.item.created", { previous_item_id: ctx.addItem({ kind: "assistant", id: itemId, response: ctx.record }), item: this.message });
    ctx.send("response.content_part.added", { ...at, part: { type: "audio", transcript: "" } });
    if (ctx.withTranscript) ctx.send("response.audio_transcript.delta", { ...at, delta: ctx.caption });
    this.pacer = new Pacer(
      ctx.frames,
      { frameMs: ctx.frameMs, limit: ctx.limit },
      (frame) => {
        this.sentFrames++;
        ctx.send("response.audio.delta", { ...at, delta: frame.payload.toString("base64") });
        ctx.record.firstAudioAtNs ??= process.hrtime.bigint();
        // Kept current so a truncate during the response is checked against what went out.
        ctx.record.audioMs += (frame.pcm.length / 2 / ctx.outputRate) * 1000;
      },
      () => this.finish(at),
    );
    this.pacer.start();
  }

  private finish(at: Obj): void {
    const { ctx } = this;
    if (ctx.withTranscript) ctx.send("response.audio_transcript.done", { ...at, transcript: ctx.caption });
    ctx.send("response.audio.done", at);
    ctx.send("response.content_part.done", { ...at, part: this.audioPart() });
    const item = { ...this.message, status: "completed", content: [this.audioPart()] };
    ctx.send("response.output_item.done", { response_id: this.id, output_index: 0, item });
    ctx.send("response.done", { response: this.body("completed", [item]) });
    this.end("completed", null);
  }

  private audioPart(): Obj {
    return { type: "audio", transcript: this.ctx.withTranscript ? this.ctx.caption : null };
  }

  private end(status: "completed" | "cancelled", reason: RealtimeCancelReason | null): void {
    this.ended = true;
    const r = this.ctx.record;
    r.status = status;
    r.cancelReason = reason;
    r.audio = Buffer.concat(this.ctx.frames.slice(0, this.sentFrames).map((f) => f.pcm));
    r.audioMs = (r.audio.length / 2 / this.ctx.outputRate) * 1000;
    r.doneAtNs = process.hrtime.bigint();
    this.ctx.onEnd(r);
  }

  private stopTimers(): void {
    if (this.delayTimer) clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
    this.pacer?.stop();
  }

  private body(status: string, output: Obj[]): Obj {
    const done = status !== "in_progress";
    const outputTokens = done ? Math.ceil(this.ctx.caption.length / 4) + this.sentFrames : 0;
    const inputTokens = 16;
    return {
      id: this.id,
      object: "realtime.response",
      status,
      status_details: null,
      output,
      usage: done
        ? {
            total_tokens: inputTokens + outputTokens,
            input_tokens: inputTokens,
            output_tokens: outputTokens,
            input_token_details: { cached_tokens: 0, text_tokens: inputTokens, audio_tokens: 0 },
            output_token_details: { text_tokens: Math.ceil(this.ctx.caption.length / 4), audio_tokens: this.sentFrames },
          }
        : null,
    };
  }
}
