import type { AgentEvent } from "./events";
import type { AudioFormat } from "../core/media";

/** What a backend needs to know about one conversation turn. */
export interface TurnContext {
  userId: string;
}

/** What a backend (or its current link) can do; the conversation adapts instead of asking for a wire format. */
export interface BackendCapabilities {
  /** The server detects the end of the user's speech (free conversation needs no local VAD). */
  serverVad: boolean;
  /** A reply can be interrupted (false e.g. for a Coze bot behind the Volcengine gateway). */
  interruption: boolean;
  /**
   * synthesize() works while a reply is being made (it has a connection of its own), so a
   * "please wait" can be said in the agent's voice while it thinks. Absent: false.
   */
  speaksBesideReplies?: boolean;
}

/** The agent's own voice for one announcement: audio in `format`, chunk by chunk as it is synthesised. */
export interface AgentSpeech {
  format: AudioFormat;
  audio: AsyncIterable<Buffer>;
}

/** What became of an announcement, for the agent's history (seed 004, Q2 and Q3). */
export interface HeardAnnouncement {
  /** The whole text. */
  text: string;
  /** What of it was heard: the whole text, its first part, or "" (cut before a sound). */
  heard: string;
  /** How much of its audio came out of the speaker, ms. */
  heardMs: number;
  /** Heard to its end. */
  complete: boolean;
  /** Spoken by synthesize() (the agent's own voice), not by the device's offline voice. */
  byAgent: boolean;
}

/** A tool's answer, JSON text (an error answer is `{"error": "..."}`). */
export interface ToolOutput {
  callId: string;
  output: string;
}

/**
 * A cloud voice agent behind one long-lived link. Methods never throw for a link
 * that is down: they return false and the caller reports it (the press is never
 * silently swallowed).
 */
export interface AgentBackend {
  readonly name: string;
  /** Formats negotiated on the current link, or null while not ready. */
  readonly formats: { input: AudioFormat; output: AudioFormat } | null;
  readonly capabilities: BackendCapabilities;
  subscribe(listener: (event: AgentEvent) => void): void;
  /** Opens the link and keeps it open (reconnecting) until stop(). */
  start(): void;
  stop(): Promise<void>;
  /** Skip any pending back-off and connect now (the user pressed the button). */
  wake(): void;
  /** Starts a user turn. */
  beginTurn(turn: TurnContext): boolean;
  /** One encoded uplink frame. */
  appendAudio(frame: Buffer): boolean;
  /** The user finished speaking (push-to-talk release). */
  commitTurn(): boolean;
  /**
   * The turn begun will not be committed (nothing was said, or the press became a
   * gesture): whatever of it reached the server must not join the next question.
   */
  abortTurn(): void;
  /**
   * Interrupt the agent's reply. `heardMs`: how much of it actually came out of the
   * speaker, for backends that keep the unheard rest out of the history (Realtime truncate).
   */
  cancelReply(heardMs?: number): boolean;
  /** Answers to tool.call events. */
  submitToolOutputs(outputs: ToolOutput[]): boolean;
  /**
   * An announcement (seed 004) has ended: what was heard of it joins the conversation's history
   * as the agent's words, so the agent knows it was said, and only what was heard (Q2, Q3).
   * Called once per announcement that started, while the link is usable. Optional: a backend
   * without it keeps no such history.
   */
  rememberAnnouncement?(a: HeardAnnouncement): boolean;
  /**
   * The agent's own voice for an announcement, `rate` being the speaker's (a backend that can
   * choose its output rate picks it). Throws, at once or from the audio, when it cannot (the link
   * is down, the service refused); the device then speaks with its offline voice. Aborting
   * `signal` stops it (on the server too). Optional: without it, always the offline voice.
   */
  synthesize?(text: string, rate: number, signal: AbortSignal): AgentSpeech;
  /**
   * A typed question from `turn.userId`, skipping speech recognition; the answer comes as a
   * reply, like a spoken turn's. False when the link is down or this protocol (or its current
   * mode) takes no text. Optional: without it the device refuses typed questions.
   */
  sendText?(text: string, turn: TurnContext): boolean;
  /**
   * What the device knows changed meaningfully (the car moved more than gps.update_m): the
   * agent is told, mid-session. Optional: a backend without it hears it only at the next link.
   */
  updateContext?(context: Record<string, string>): void;
  /**
   * Forget the conversation so far (long press, `talkbox new-conversation`): the next turn starts
   * a new one. `userId`: only that user's (a backend with one conversation for all forgets it).
   */
  resetConversation(userId?: string): void;
  /** Who ends a turn from now on: the device (push-to-talk) or the server's VAD (free conversation). */
  setTurnDetection(mode: "push-to-talk" | "free"): void;
  /**
   * New credentials (`systemctl reload talkbox` after the token was fixed): the link is
   * replaced at once with them, also ending the long wait after a rejection.
   */
  updateCredentials(credentials: Credentials): void;
}

export interface Credentials {
  token: string;
  /** Coze: the bot (agent.coze.bot_id); backends without one ignore it. */
  botId?: string;
}
