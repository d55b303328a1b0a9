/**
 * Server wire events → normalized agent events. Pure: the link decides what to do
 * with setup events (chat.created / chat.updated), everything else comes here.
 */
import type { AgentEvent } from "../events";
import { decodeBase64, errorHint, S, str, type WireEvent } from "./protocol";

export type Translation =
  | { kind: "events"; events: AgentEvent[] }
  | { kind: "ignored"; why: string }
  | { kind: "invalid"; why: string };

export interface ReplyTracker {
  /** chat_id of the reply in progress, if any. */
  current: string | null;
  /** The chat that waits for tool outputs (requires_action): the calls it asked for and the answers so far. */
  awaiting?: ToolCallsAwaiting | null;
}

export interface ToolCallsAwaiting {
  chatId: string;
  callIds: string[];
  answers: Map<string, string>;
}

const none: Translation = { kind: "events", events: [] };

export function translate(ev: WireEvent<Record<string, unknown>>, replies: ReplyTracker): Translation {
  const d = ev.data ?? {};
  switch (ev.event_type) {
    case S.bufferCompleted:
      return one({ type: "input.committed" });
    case S.speechStarted:
      return one({ type: "input.speech_started" });
    case S.speechStopped:
      return one({ type: "input.speech_stopped" });
    case S.transcriptUpdate:
    case S.transcriptCompleted: {
      const text = str(d.content);
      if (text === undefined) return { kind: "invalid", why: `${ev.event_type} without data.content` };
      return one({ type: "user.transcript", text, final: ev.event_type === S.transcriptCompleted });
    }
    case S.chatCreatedConv: {
      const id = str(d.id);
      if (!id) return { kind: "invalid", why: `${ev.event_type} without data.id` };
      replies.current = id;
      const conversationId = str(d.conversation_id);
      return one(conversationId ? { type: "reply.started", replyId: id, conversationId } : { type: "reply.started", replyId: id });
    }
    case S.messageDelta:
    case S.messageCompleted: {
      // Only the spoken answer's text is the agent's reply; other message types
      // (function calls, verbose, follow-up suggestions) are not shown to the user.
      if (d.type !== undefined && d.type !== "answer") return { kind: "ignored", why: `message type ${String(d.type)}` };
      if (d.content_type !== undefined && d.content_type !== "text") return { kind: "ignored", why: `content_type ${String(d.content_type)}` };
      const text = str(d.content);
      if (text === undefined) return { kind: "invalid", why: `${ev.event_type} without data.content` };
      const replyId = str(d.chat_id) ?? replies.current ?? "";
      return one({ type: "reply.text", replyId, text, final: ev.event_type === S.messageCompleted });
    }
    case S.audioDelta: {
      const audio = decodeBase64(d.content);
      if (!audio) return { kind: "invalid", why: "conversation.audio.delta: data.content is not base64 audio" };
      const replyId = str(d.chat_id) ?? replies.current;
      if (!replyId) return { kind: "invalid", why: "conversation.audio.delta outside any reply" };
      return one({ type: "reply.audio", replyId, audio });
    }
    case S.chatRequiresAction:
      return toolCalls(d, replies);
    case S.chatCompleted:
    case S.chatFailed: {
      const replyId = str(d.id) ?? replies.current ?? "";
      if (replies.current === replyId) replies.current = null;
      if (replies.awaiting?.chatId === replyId) replies.awaiting = null;
      if (ev.event_type === S.chatCompleted) return one({ type: "reply.done", replyId, status: "completed" });
      const err = typeof d.last_error === "object" && d.last_error !== null ? (d.last_error as Record<string, unknown>) : {};
      const code = (err.code as number | string | undefined) ?? "unknown";
      const hint = errorHint(code);
      return one({
        type: "reply.done",
        replyId,
        status: "failed",
        error: { code, message: str(err.msg) ?? "the reply failed", ...(hint ? { hint } : {}) },
      });
    }
    case S.chatCanceled: {
      const replyId = replies.current ?? "";
      replies.current = null;
      replies.awaiting = null;
      return one({ type: "reply.done", replyId, status: "canceled" });
    }
    case S.error: {
      const code = (d.code as number | string | undefined) ?? "unknown";
      const hint = errorHint(code);
      return one({ type: "agent.error", error: { code, message: str(d.msg) ?? "error without message", ...(hint ? { hint } : {}) } });
    }
    case S.chatInProgress:
    case S.sentenceStart:
    case S.audioCompleted:
    case S.bufferCleared:
    case S.chatCreated:
    case S.chatUpdated:
      return none;
    default:
      return { kind: "ignored", why: `unknown event ${ev.event_type}` };
  }
}

/**
 * requires_action: the chat pauses until the client answers every call in one
 * submit_tool_outputs. A call without an id cannot be answered and is dropped (a
 * repeated id is run once); one without a name still becomes a tool.call, so the
 * agent hears that it is unknown.
 */
function toolCalls(d: Record<string, unknown>, replies: ReplyTracker): Translation {
  const chatId = str(d.id) ?? replies.current;
  if (!chatId) return { kind: "invalid", why: `${S.chatRequiresAction} without data.id (the chat_id to answer)` };
  const calls = obj(obj(d.required_action)?.submit_tool_outputs)?.tool_calls;
  if (!Array.isArray(calls)) return { kind: "invalid", why: `${S.chatRequiresAction} without required_action.submit_tool_outputs.tool_calls` };
  const events: AgentEvent[] = [];
  const callIds: string[] = [];
  for (const c of calls) {
    const call = obj(c);
    const callId = str(call?.id);
    if (!callId || callIds.includes(callId)) continue;
    const fn = obj(call?.function);
    const args = fn?.arguments;
    callIds.push(callId);
    events.push({ type: "tool.call", callId, name: str(fn?.name) ?? "", arguments: typeof args === "string" ? args : args === undefined ? "{}" : argumentsText(args) });
  }
  if (events.length === 0) return { kind: "invalid", why: `${S.chatRequiresAction} with no tool call that has an id` };
  replies.awaiting = { chatId, callIds, answers: new Map() };
  return { kind: "events", events };
}

/** Arguments sent as an object: as JSON text, or text the tool runner refuses when the object is too deep to serialize. */
function argumentsText(args: unknown): string {
  try {
    return JSON.stringify(args);
  } catch {
    return "(arguments nested too deeply to read)";
  }
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function one(e: AgentEvent): Translation {
  return { kind: "events", events: [e] };
}
