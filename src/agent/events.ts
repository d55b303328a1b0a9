/**
 * The normalized event model between agent backends (Coze, Realtime, …) and the
 * conversation. Backends translate their wire format into these and nothing else;
 * the conversation and the device state machine never see a wire event.
 */
import type { AudioFormat } from "../core/media";

export type LinkState = "connecting" | "ready" | "down";

/**
 * Why a link is not usable; decides how the device signals it (LEDs, spoken alert) and how
 * fast we retry. The ones the user must act on hold retries for agent.reconnect.auth_failure_ms:
 * auth (the credentials were rejected), quota (the account's is used up), not_found (no such
 * agent, or not published), bad_request (the agent refused the device's settings).
 */
export type LinkProblem = "network" | "auth" | "quota" | "not_found" | "bad_request" | "server" | "protocol";

/** Problems the user must act on: retried only after a long back-off (or, where noted, a press). */
export const HELD_PROBLEMS: ReadonlySet<LinkProblem> = new Set(["auth", "quota", "not_found", "bad_request"]);

/** Held problems a press does not retry: only a change of the config (a reload) can fix them. */
export const CONFIG_PROBLEMS: ReadonlySet<LinkProblem> = new Set(["auth", "bad_request"]);

export type AgentEvent =
  /** The link is being opened (first time or after a drop). */
  | { type: "link.connecting"; attempt: number }
  /** Session configured; audio may flow. `input`/`output` are what the server accepted. */
  | { type: "link.ready"; input: AudioFormat; output: AudioFormat }
  /** The link is gone. `retryInMs` is when the backend will try again by itself (null: never). */
  | { type: "link.down"; problem: LinkProblem; message: string; retryInMs: number | null }
  /** The backend did not commit the turn: too little audio to be a question (the server would reject it). */
  | { type: "input.empty"; message: string }
  /** The server took the end of the user's turn. */
  | { type: "input.committed" }
  /** Server-side VAD heard the user start / stop speaking. */
  | { type: "input.speech_started" }
  | { type: "input.speech_stopped" }
  /** Transcript of the user's speech, partial or final. */
  | { type: "user.transcript"; text: string; final: boolean }
  /** The agent started a reply. */
  | { type: "reply.started"; replyId: string; conversationId?: string }
  /** Encoded audio of a reply, in the negotiated output format. */
  | { type: "reply.audio"; replyId: string; audio: Buffer }
  /** Text of the reply (caption); `final` marks the complete text. */
  | { type: "reply.text"; replyId: string; text: string; final: boolean }
  /**
   * Something the agent sent that is not spoken (the voice API's attachments: a plain text such
   * as a promo code, a reference such as a URL, or full content), as JSON text of at most
   * MAX_ATTACHMENT_CHARS; `userId`: the user it was for, when the protocol says.
   */
  | { type: "reply.attachment"; content: string; userId?: string }
  /** The reply ended. */
  | { type: "reply.done"; replyId: string; status: "completed" | "failed" | "canceled"; error?: AgentError }
  /**
   * The agent asks the device to run one of its tools. The answer goes back with
   * AgentBackend.submitToolOutputs, under the same callId.
   */
  | { type: "tool.call"; callId: string; name: string; arguments: string }
  /** Asked for with resetConversation: the agent confirmed the new conversation (ok), or did not in time. */
  | { type: "conversation.reset"; ok: boolean; message: string }
  /** A server error that does not end the link. */
  | { type: "agent.error"; error: AgentError };

export interface AgentError {
  code: number | string;
  message: string;
  /** What the user can do about it. */
  hint?: string;
}

export type AgentEventType = AgentEvent["type"];

/** The longest attachment passed on (JSON text); a longer one is cut, saying so. */
export const MAX_ATTACHMENT_CHARS = 8192;
