/**
 * Whether the agent is there and answering, for `talkbox status` and the state stream: the
 * link is up (reachable), the last turn it was asked got an answer (answering; null before
 * the first), and how many times in a row asking it or reaching it failed. A completed turn
 * ends the run of failures; a link that comes up does not (a server that takes sessions and
 * then fails every answer is not healthy).
 */
import type { DeviceActivity } from "../core/activity";

export interface AgentHealthStatus {
  Reachable: boolean;
  Answering: boolean | null;
  ConsecutiveFailures: number;
  /** The last failure, in words (a link problem or a failed reply), until an answer comes. */
  LastFailure?: string;
}

export class AgentHealth {
  private reachable = false;
  private answering: boolean | null = null;
  private failures = 0;
  private lastFailure: string | undefined;

  /** Reports a change: the conversation's activity. */
  constructor(private readonly report: (a: Extract<DeviceActivity, { kind: "agent" }>) => void) {}

  get status(): AgentHealthStatus {
    return {
      Reachable: this.reachable,
      Answering: this.answering,
      ConsecutiveFailures: this.failures,
      ...(this.lastFailure !== undefined ? { LastFailure: this.lastFailure } : {}),
    };
  }

  linkUp(): void {
    this.set(() => (this.reachable = true));
  }

  linkDown(problem: string, message: string): void {
    this.set(() => {
      this.reachable = false;
      this.failures++;
      this.lastFailure = `link ${problem}: ${message}`;
    });
  }

  /** A turn ended: answered (completed), or the answer failed (failed, or no reply in time). */
  turnEnded(outcome: "completed" | "failed", why?: string): void {
    this.set(() => {
      if (outcome === "completed") {
        this.answering = true;
        this.failures = 0;
        this.lastFailure = undefined;
      } else {
        this.answering = false;
        this.failures++;
        this.lastFailure = `reply failed${why ? `: ${why}` : ""}`;
      }
    });
  }

  private set(change: () => void): void {
    const before = JSON.stringify(this.status);
    change();
    if (JSON.stringify(this.status) === before) return;
    const s = this.status;
    this.report({ kind: "agent", reachable: s.Reachable, answering: s.Answering, failures: s.ConsecutiveFailures, ...(s.LastFailure ? { lastFailure: s.LastFailure } : {}) });
  }
}
