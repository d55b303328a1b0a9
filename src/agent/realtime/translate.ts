/**
 * Server wire events → normalized agent events. The link handles session setup
 * and `error` events; everything else comes here.
 *
 * One AgentEvent reply is one Realtime response (replyId = response.id). A
 * response that asks for a function call is not the end of the answer: the
 * device runs the tool, sends its output and asks for another response, which
 * speaks. So such a response, when it completes, gets no `reply.done`: the
 * device stays in thinking (or speaking, if the response also said something)
 * until the follow-up response's `reply.done`. A function-call response still
 * gets `reply.started` (it re-arms the reply timeout while the device thinks;
 * only reply.audio makes the device speak). A response that is cancelled or fails
 * always gets its `reply.done`, function call or not: that ends the answer.
 */
import type { AgentError, AgentEvent } from "../events";
import type { AudioFormat } from "../../core/media";
import { decodeBase64 } from "../coze/protocol";
import { audioMs, obj, S, str, type WireEvent } from "./protocol";

export type Translation =
  | { kind: "events"; events: AgentEvent[]; finished?: FinishedResponse }
  | { kind: "ignored"; why: string }
  | { kind: "invalid"; why: string };

export interface FinishedResponse {
  id: string;
  status: "completed" | "failed" | "canceled";
  /** call_ids of the function calls it asked for. */
  calls: string[];
}

/** The assistant audio item being heard: what conversation.item.truncate cuts. */
export interface AudioItem {
  id: string;
  /** Audio of the same response before this item, ms. */
  startMs: number;
  /** Audio received for this item, ms. */
  ms: number;
}

export interface ResponseTracker {
  /** The response in progress (response.created … response.done). */
  active: { id: string; calls: string[]; audioMs: number } | null;
  /** The latest audio item of the latest response; kept after response.done, since it may still be playing. */
  audio: AudioItem | null;
}

export function newTracker(): ResponseTracker {
  return { active: null, audio: null };
}

const none: Translation = { kind: "events", events: [] };

export function translate(ev: WireEvent, t: ResponseTracker, output: AudioFormat): Translation {
  switch (ev.type) {
    case S.bufferCommitted:
      return one({ type: "input.committed" });
    case S.speechStarted:
      return one({ type: "input.speech_started" });
    case S.speechStopped:
      return one({ type: "input.speech_stopped" });
    case S.transcriptionDelta:
    case S.transcriptionCompleted: {
      const final = ev.type === S.transcriptionCompleted;
      const text = str(final ? ev.transcript : ev.delta);
      if (text === undefined) return { kind: "invalid", why: `${ev.type} without ${final ? "transcript" : "delta"}` };
      return one({ type: "user.transcript", text, final });
    }
    case S.responseCreated: {
      const id = str(obj(ev.response)?.id);
      if (!id) return { kind: "invalid", why: "response.created without response.id" };
      t.active = { id, calls: [], audioMs: 0 };
      // A new reply: its audio is what the device hears from now on.
      t.audio = null;
      return one({ type: "reply.started", replyId: id });
    }
    case S.audioDelta: {
      const audio = decodeBase64(ev.delta);
      if (!audio) return { kind: "invalid", why: "response.audio.delta: delta is not base64 audio" };
      const replyId = str(ev.response_id) ?? t.active?.id;
      if (!replyId) return { kind: "invalid", why: "response.audio.delta outside any response" };
      trackAudio(t, replyId, str(ev.item_id), audioMs(output.codec, output.sampleRate, audio.length));
      return one({ type: "reply.audio", replyId, audio });
    }
    case S.audioTranscriptDelta:
    case S.audioTranscriptDone:
    case S.textDelta:
    case S.textDone: {
      const final = ev.type === S.audioTranscriptDone || ev.type === S.textDone;
      const field = ev.type === S.audioTranscriptDone ? "transcript" : ev.type === S.textDone ? "text" : "delta";
      const text = str(ev[field]);
      if (text === undefined) return { kind: "invalid", why: `${ev.type} without ${field}` };
      const replyId = str(ev.response_id) ?? t.active?.id ?? "";
      return one({ type: "reply.text", replyId, text, final });
    }
    case S.functionArgumentsDone:
      return functionCall(t, str(ev.call_id), str(ev.name), str(ev.arguments), ev.type);
    case S.outputItemDone: {
      // Some servers may announce a call only with its finished item: ask for it once.
      const item = obj(ev.item);
      if (item?.type !== "function_call" || t.active?.calls.includes(str(item.call_id) ?? "")) return none;
      return functionCall(t, str(item.call_id), str(item.name), str(item.arguments), ev.type);
    }
    case S.responseDone:
      return responseDone(ev, t);
    case S.sessionCreated:
    case S.sessionUpdated:
    case S.bufferCleared:
    case S.itemCreated:
    case S.itemTruncated:
    case S.outputItemAdded:
    case S.contentPartAdded:
    case S.contentPartDone:
    case S.audioDone:
    case S.functionArgumentsDelta:
    case S.rateLimits:
      return none;
    case S.transcriptionFailed:
      return { kind: "ignored", why: `transcription failed: ${str(obj(ev.error)?.message) ?? "no reason given"}` };
    default:
      return { kind: "ignored", why: `unknown event ${ev.type}` };
  }
}

function trackAudio(t: ResponseTracker, responseId: string, itemId: string | undefined, ms: number): void {
  const r = t.active?.id === responseId ? t.active : null;
  if (itemId && t.audio?.id !== itemId) t.audio = { id: itemId, startMs: r?.audioMs ?? 0, ms: 0 };
  if (t.audio) t.audio.ms += ms;
  if (r) r.audioMs += ms;
}

function functionCall(t: ResponseTracker, callId: string | undefined, name: string | undefined, args: string | undefined, type: string): Translation {
  if (!callId || !name) return { kind: "invalid", why: `${type} without call_id or name` };
  t.active?.calls.push(callId);
  return one({ type: "tool.call", callId, name, arguments: args ?? "{}" });
}

function responseDone(ev: WireEvent, t: ResponseTracker): Translation {
  const r = obj(ev.response);
  const id = str(r?.id) ?? t.active?.id;
  if (!id) return { kind: "invalid", why: "response.done without response.id" };
  const calls = t.active?.id === id ? [...t.active.calls] : [];
  const events: AgentEvent[] = [];
  // A call listed only in the final output is still a call the agent wants answered.
  for (const item of Array.isArray(r?.output) ? r.output : []) {
    const o = obj(item);
    const callId = str(o?.call_id);
    const name = str(o?.name);
    if (o?.type !== "function_call" || !callId || !name || calls.includes(callId)) continue;
    calls.push(callId);
    events.push({ type: "tool.call", callId, name, arguments: str(o.arguments) ?? "{}" });
  }
  if (t.active?.id === id) t.active = null;
  const wire = str(r?.status) ?? "completed";
  const status = wire === "completed" ? "completed" : wire === "cancelled" ? "canceled" : "failed";
  const finished: FinishedResponse = { id, status, calls };
  if (status === "completed" && calls.length > 0) return { kind: "events", events, finished };
  if (status === "failed") events.push({ type: "reply.done", replyId: id, status, error: statusError(wire, obj(r?.status_details)) });
  else events.push({ type: "reply.done", replyId: id, status });
  return { kind: "events", events, finished };
}

function statusError(status: string, details: Record<string, unknown> | undefined): AgentError {
  const err = obj(details?.error);
  const reason = str(details?.reason);
  const code = str(err?.code) ?? str(err?.type) ?? reason ?? status;
  const message = str(err?.message) ?? (reason ? `the reply ended early (${reason})` : `the reply ended with status ${status}`);
  if (reason === "max_output_tokens") return { code, message, hint: "the answer hit the output token limit; ask for something shorter" };
  if (reason === "content_filter") return { code, message, hint: "the server's content filter stopped the answer" };
  return { code, message };
}

function one(e: AgentEvent): Translation {
  return { kind: "events", events: [e] };
}
