/**
 * Spoken alerts: a driver cannot look at an LED, so the device says when it lost its agent,
 * could not reach it, had its credentials rejected, ran out of quota, found no such agent or
 * had its settings refused — once per incident
 * (until the link is up again), never over the user (as a mode-3 announcement: dropped while
 * the device interacts, and tried again when it rests), in the device's own voice (the
 * agent is what is missing).
 */
import type { DeviceActivity } from "../core/activity";
import type { AnnouncementSource, InterruptMode } from "../core/announcement";
import { HELD_PROBLEMS, type LinkProblem } from "../agent/events";

export type AlertKind = "offline" | "unreachable" | "auth" | "quota" | "not_found" | "bad_request";

/** The phrase for each alert; an empty one is not said. */
export type AlertPhrases = Record<AlertKind, string>;

/** The idle prompt's default (free conversation, `announce.idle_prompt_ms`); the Chinese one is seed 004's own example. */
export const IDLE_PROMPTS: Record<"en" | "zh", string> = {
  en: "I noticed you have been quiet for a while. Shall I explain that again?",
  zh: "我注意到你有一会儿没说话了，需要我解释一下刚才的内容吗？",
};

/** The slow-reply phrase's default (`announce.slow_reply_ms`); the Chinese one is seed 004's own example. */
export const SLOW_REPLY_PHRASES: Record<"en" | "zh", string> = {
  en: "One moment, I am working on it.",
  zh: "正在处理，请稍等。",
};

export const ALERT_PHRASES: Record<"en" | "zh", AlertPhrases> = {
  en: {
    offline: "I am offline. Reconnecting.",
    unreachable: "I cannot reach the agent. Check the network.",
    auth: "The agent rejected my credentials. Check the token.",
    quota: "The agent's quota is used up.",
    not_found: "The agent was not found. Check that it is published.",
    bad_request: "The agent refused my settings. Check the configuration.",
  },
  zh: {
    offline: "网络已断开，正在重新连接。",
    unreachable: "无法连接到智能体，请检查网络。",
    auth: "智能体拒绝了凭证，请检查令牌。",
    quota: "智能体的额度已用完。",
    not_found: "找不到智能体，请检查它是否已发布。",
    bad_request: "智能体拒绝了设备的设置，请检查配置。",
  },
};

export interface AlertsOptions {
  phrases: AlertPhrases;
  /** Speaks it as the device's own (mode 3, source "alert", the local voice); dropped while the device is busy. */
  say(text: string, mode: InterruptMode, source: AnnouncementSource): { decision: "spoken" | "queued" | "dropped" };
}

export class SpokenAlerts {
  /** The incident under way (null: the link is up, or nothing to say about it) and whether it was said. */
  private incident: { kind: AlertKind; said: boolean } | null = null;
  private everUp = false;

  constructor(private readonly o: AlertsOptions) {}

  /** Follows what the device reports (the conversation's activity). */
  onActivity(a: DeviceActivity): void {
    if (a.kind === "state") {
      // An alert dropped while the device was busy is tried again at each change (mode 3 decides).
      this.later();
      return;
    }
    if (a.kind !== "link") return;
    if (a.state === "ready") {
      this.everUp = true;
      this.incident = null;
      return;
    }
    if (a.state !== "down") return;
    // The problems the user must act on have an alert of their own; the others are offline or unreachable.
    const held = a.problem !== undefined && HELD_PROBLEMS.has(a.problem as LinkProblem);
    const kind: AlertKind = held ? (a.problem as AlertKind) : this.everUp ? "offline" : "unreachable";
    // One incident, one alert: retries failing the same way say nothing more; a different failure is a new incident.
    if (this.incident?.kind === kind) return;
    this.incident = { kind, said: false };
    this.later();
  }

  /**
   * Reports come from inside the state machine's handling of an input: the request waits
   * until that is over, so the machine decides on it at once and its answer is the real one.
   */
  private later(): void {
    queueMicrotask(() => this.trySay());
  }

  private trySay(): void {
    const i = this.incident;
    if (!i || i.said) return;
    const text = this.o.phrases[i.kind];
    if (!text) {
      i.said = true;
      return;
    }
    i.said = this.o.say(text, 3, "alert").decision !== "dropped";
  }
}
