/**
 * The agent's normalized events as stage calls and state-machine inputs: the link's
 * status, the turn buffer's acknowledgements, which reply's audio plays, transcripts and
 * reply text for the state stream, tool calls. No wire format reaches here (agent/events.ts
 * is the vocabulary); no effect is run here (the machine decides those).
 */
import type { AgentEvent } from "../agent/events";
import type { DeviceActivity } from "../core/activity";
import type { Logger } from "../log/logger";
import type { LinkMonitor } from "./link-monitor";
import type { ReplyPlayer } from "./reply-player";
import type { DeviceInput } from "./state-machine";
import type { ToolBridge } from "./tool-bridge";
import type { TurnBuffer } from "./turn-buffer";
import type { TurnStats } from "./turn-stats";

export interface AgentListenerOptions {
  link: Pick<LinkMonitor, "connecting" | "ready" | "down">;
  turns: Pick<TurnBuffer, "release" | "linkDown" | "acknowledged">;
  replies: Pick<ReplyPlayer, "linkLost" | "started" | "audio" | "fresh" | "done">;
  stats: Pick<TurnStats, "outcome" | "transcript" | "replyText">;
  tools: Pick<ToolBridge, "call">;
  log: Logger;
  dispatch(input: DeviceInput): void;
  /** Speech began or ended, as the server's VAD heard it (the conversation also hears it from the device's VAD). */
  speechStarted(): void;
  speechStopped(): void;
  report(activity: DeviceActivity): void;
}

export class AgentListener {
  constructor(private readonly o: AgentListenerOptions) {}

  handle(e: AgentEvent): void {
    const { link, turns, replies, stats, log, dispatch } = this.o;
    switch (e.type) {
      case "link.connecting":
        link.connecting();
        dispatch({ type: "link.connecting" });
        return;
      case "link.ready":
        if (!link.ready(e.input, e.output)) return;
        dispatch({ type: "link.ready" });
        turns.release();
        return;
      case "link.down":
        link.down(e.problem, e.message, e.retryInMs);
        turns.linkDown();
        replies.linkLost();
        dispatch({ type: "link.down", problem: e.problem, message: e.message });
        return;
      case "input.committed":
        log.debug("the agent took the end of the turn");
        turns.acknowledged();
        dispatch({ type: "turn.acknowledged" });
        return;
      case "input.empty":
        stats.outcome("empty");
        dispatch({ type: "turn.empty", message: e.message });
        return;
      case "tool.call":
        void this.o.tools.call(e.callId, e.name, e.arguments);
        return;
      case "input.speech_started":
        log.debug("the agent hears speech");
        this.o.speechStarted();
        return;
      case "input.speech_stopped":
        log.debug("the agent heard the end of speech");
        this.o.speechStopped();
        return;
      case "user.transcript":
        if (!e.final) return;
        log.info({ transcript: e.text }, `user: ${e.text}`);
        stats.transcript(e.text);
        this.o.report({ kind: "transcript", text: e.text });
        return;
      case "reply.started":
        turns.acknowledged();
        if (replies.started(e.replyId)) dispatch({ type: "reply.started" });
        return;
      case "reply.audio":
        if (replies.audio(e.replyId, e.audio)) dispatch({ type: "reply.audio" });
        return;
      case "reply.text":
        if (!e.final || !replies.fresh(e.replyId)) return;
        log.info(`agent: ${e.text}`);
        stats.replyText(e.text);
        this.o.report({ kind: "reply", text: e.text });
        return;
      case "reply.attachment":
        log.info({ user: e.userId }, `the agent sent an attachment: ${e.content}`);
        this.o.report({ kind: "attachment", content: e.content, ...(e.userId !== undefined ? { user: e.userId } : {}) });
        return;
      case "reply.done": {
        const end = replies.done(e.replyId, e.status);
        if (end.kind === "stale") return;
        stats.outcome(e.status, true);
        if (end.cutShort) {
          // Cut short by the device (the reply buffer was full): what was kept plays to its end.
          dispatch({ type: "reply.done", status: end.status });
          return;
        }
        if (e.error) log.warn({ code: e.error.code }, `reply ${e.status}: ${e.error.message}${e.error.hint ? `; ${e.error.hint}` : ""}`);
        dispatch(e.error ? { type: "reply.done", status: e.status, message: e.error.message } : { type: "reply.done", status: e.status });
        return;
      }
      case "agent.error": {
        const text = `${e.error.message} (${String(e.error.code)})${e.error.hint ? `; ${e.error.hint}` : ""}`;
        log.warn({ code: e.error.code }, `agent error: ${text}`);
        dispatch({ type: "agent.error", message: text });
        return;
      }
      case "conversation.reset":
        dispatch({ type: "conversation.reset", ok: e.ok, message: e.message });
        return;
    }
  }
}
