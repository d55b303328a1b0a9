/**
 * Tool calls a test scripts for the emulator's agent: the next reply on either endpoint
 * takes every call queued so far (several at once are parallel calls in one reply), so a
 * device's tool handling can be tested without a model that decides to call tools.
 */
import { randomBytes } from "node:crypto";
import type { ScriptedToolCall, ToolCallRecord } from "./records";

export class ToolScript {
  private queue: ScriptedToolCall[] = [];

  add(call: ScriptedToolCall): void {
    if (typeof call?.name !== "string" || call.name === "") throw new Error("scriptToolCall: name must be a non-empty string (the tool's name)");
    if (typeof call.arguments !== "string") throw new Error('scriptToolCall: arguments must be a string of JSON text, e.g. "{\\"level\\": 5}"');
    this.queue.push({ name: call.name, arguments: call.arguments });
  }

  /** Every queued call, each with a fresh call id; the queue is empty afterwards. */
  take(): ToolCallRecord[] {
    return this.queue.splice(0).map((c) => ({ ...c, callId: `call_emu_${randomBytes(8).toString("hex")}` }));
  }
}
