/**
 * What the device does, as the outside sees it: the conversation reports it, the control
 * socket's state stream (`Subscribe`) carries it to head units, displays and bridges.
 * Plain data, no wire format: the stream turns each into a frame.
 */
import type { AnnouncementSource, AnnouncementVoice } from "./announcement";
import type { ConversationMode, DeviceState } from "./device-state";

export type DeviceActivity =
  /** `user`: whose turn it is, while the device listens to, thinks about or answers one. */
  | { kind: "state"; state: DeviceState; from: DeviceState; cause: string; mode: ConversationMode; user?: string }
  | { kind: "link"; state: "connecting" | "ready" | "down"; problem?: string; message?: string; retryInMs?: number | null }
  /** Whether the agent is reachable and answering (device/agent-health.ts), when that changes. */
  | { kind: "agent"; reachable: boolean; answering: boolean | null; failures: number; lastFailure?: string }
  /** What the agent heard the user say (final transcripts only). */
  | { kind: "transcript"; text: string }
  /** The agent's reply as text (final only; a reply cut off by barge-in is not reported). */
  | { kind: "reply"; text: string }
  /** Something the agent sent that is not spoken (an attachment), as JSON text, and for whom. */
  | { kind: "attachment"; content: string; user?: string }
  /** What the device tells its user: level error for failures, warn and info for the rest. */
  | { kind: "notice"; level: "info" | "warn" | "error"; message: string }
  | { kind: "volume"; percent: number }
  /**
   * The agent profile in use (issue 17): a switch begins (`switching`, from `from`), the new one
   * is connected (`active`), or it could not connect and `from` is back (`failed`, with why).
   */
  | { kind: "profile"; event: "switching" | "active" | "failed"; name: string; title: string; from?: string; message?: string }
  /**
   * An announcement (seed 004): started (with its voice), completed, interrupted (`heard`: what
   * came out of the speaker before the cut), failed, or dropped (`reason`).
   */
  | {
      kind: "announcement";
      id: string;
      event: "started" | "completed" | "interrupted" | "failed" | "dropped";
      text: string;
      source: AnnouncementSource;
      voice?: AnnouncementVoice;
      heard?: string;
      reason?: string;
    };
