/**
 * Which agent profile the device talks to, and the switch from one to another (a command, a
 * gesture, the agent's switch_agent tool). At most the active profile's link is open: a switch
 * ends what goes on, closes the old link, opens the new one and waits for it; once it is up
 * the profile is saved (a restart comes back to it) and its intro is said through the
 * announcement path, in its own voice where it has one. A profile whose link does not come up
 * (refused, unreachable, no answer in time) is named in the error and the previous one comes back.
 */
import type { AgentBackend } from "../../agent/backend";
import type { AgentEvent } from "../../agent/events";
import { DEFAULT_PROFILE } from "../../config/agent-profiles";
import type { Config } from "../../config/schema";
import type { DeviceActivity } from "../../core/activity";
import type { Clock } from "../../core/clock";
import type { ConversationMode } from "../../core/device-state";
import type { StateStore } from "../../core/state-store";
import type { InterruptMode } from "../../core/announcement";
import type { Logger } from "../../log/logger";
import { forgetSavedConversations, savedConversations, type SavedConversations } from "../../state/conversation-book";
import type { AgentFactory } from "./factory";
import { ownsScope, type AgentProfile } from "./profiles";
import { SwitchingBackend } from "./switching-backend";

/** The state store's key of the profile in use. */
export const ACTIVE_PROFILE_KEY = "agents.active";
/** How long the old link may take to close before the new one opens anyway. */
const STOP_MS = 3000;
/** Beyond the new profile's connect timeout: the session's set-up after the socket is open. */
const READY_MARGIN_MS = 5000;
/** The intro is said once nothing else goes on (mode 2: it waits for the user, it is never dropped). */
const INTRO_MODE: InterruptMode = 2;

export interface SwitchedConversation {
  /** Ends what goes on; the device shows `connecting` until the new link is up. */
  agentChanging(): void;
  announce(text: string, mode: InterruptMode, source: "agent-intro"): unknown;
  /** A new conversation with the agent in use (`user`: only theirs). */
  newConversation(user?: string): void;
  readonly mode: ConversationMode;
}

export type SwitchResult = { ok: true; profile: AgentProfile; already: boolean } | { ok: false; reason: string };

export interface AgentListing {
  name: string;
  title: string;
  backend: string;
  intro?: string;
  active: boolean;
  conversations: SavedConversations;
}

export interface AgentSwitcherOptions {
  factory: Pick<AgentFactory, "profiles" | "profile" | "create" | "credentials" | "reload">;
  state: StateStore;
  log: Logger;
  clock: Clock;
  /** A profile's conversation was started anew without its backend (the analytics end it). */
  conversationEnded?(profile: string, user?: string): void;
}

export class AgentSwitcher {
  /** The conversation's backend: always the active profile's (or the one being tried). */
  readonly backend: SwitchingBackend;
  private current: AgentProfile;
  private pending: string | null = null;
  private conversation: SwitchedConversation | null = null;
  private readonly activeListeners: Array<(p: AgentProfile) => void> = [];
  private readonly activityListeners: Array<(a: DeviceActivity) => void> = [];

  constructor(private readonly o: AgentSwitcherOptions, mode: ConversationMode) {
    this.current = this.startingProfile();
    this.backend = new SwitchingBackend(o.factory.create(this.current, mode));
    if (o.factory.profiles.length > 1) o.log.info(`agent profile: ${this.current.title} (${this.current.name}); ${o.factory.profiles.length} profiles`);
  }

  /** The conversation the switches act on (it is built on `backend`, so after this). */
  attach(conversation: SwitchedConversation): void {
    this.conversation = conversation;
  }

  get active(): AgentProfile {
    return this.current;
  }

  get profiles(): readonly AgentProfile[] {
    return this.o.factory.profiles;
  }

  /** The switches as the state stream carries them. */
  onActivity(listener: (a: DeviceActivity) => void): void {
    this.activityListeners.push(listener);
  }

  /** Told each time another profile is in use (the LEDs take its colour). */
  onActive(listener: (p: AgentProfile) => void): void {
    this.activeListeners.push(listener);
  }

  list(): AgentListing[] {
    return this.profiles.map((p) => ({
      name: p.name,
      title: p.title,
      backend: p.descriptor.name,
      ...(p.intro !== undefined ? { intro: p.intro } : {}),
      active: p === this.current,
      conversations: savedConversations(this.o.state, ownsScope(p.name)),
    }));
  }

  /** The next profile in the config's order, after the last the first (the gesture). */
  next(by: string): Promise<SwitchResult> {
    const all = this.profiles;
    if (all.length < 2) {
      this.o.log.info(`${by}: there is one agent profile only; add more under agents: in the config`);
      return Promise.resolve({ ok: true, profile: this.current, already: true });
    }
    const next = all[(all.indexOf(this.current) + 1) % all.length]!;
    return this.switchTo(next.name, by);
  }

  /** Switches to the profile `name`; resolves once its link is up, or with why not (the previous one is back). */
  async switchTo(name: string, by: string): Promise<SwitchResult> {
    const next = this.o.factory.profile(name);
    if (!next) return { ok: false, reason: `no agent profile is named '${name}'; the profiles are ${this.profiles.map((p) => p.name).join(", ")} (talkbox agents lists them)` };
    if (this.pending !== null) return { ok: false, reason: `a switch to '${this.pending}' is under way; try again when it is done` };
    if (next === this.current) return { ok: true, profile: next, already: true };
    const conversation = this.conversation;
    if (!conversation) throw new Error("AgentSwitcher.attach was not called");
    const previous = this.current;
    this.pending = next.name;
    try {
      this.o.log.info(`switching from the agent ${previous.title} (${previous.name}) to ${next.title} (${next.name}), asked by ${by}`);
      this.report({ kind: "profile", event: "switching", name: next.name, title: next.title, from: previous.name });
      const outcome = await this.replace(next, conversation);
      if (outcome === null) {
        this.current = next;
        this.o.state.set(ACTIVE_PROFILE_KEY, next.name === DEFAULT_PROFILE ? undefined : next.name);
        for (const l of this.activeListeners) l(next);
        this.report({ kind: "profile", event: "active", name: next.name, title: next.title, from: previous.name });
        if (next.intro !== undefined) conversation.announce(next.intro, INTRO_MODE, "agent-intro");
        return { ok: true, profile: next, already: false };
      }
      const reason = `the agent profile '${next.name}' (${next.descriptor.title}) could not connect: ${outcome}; back to '${previous.name}'`;
      this.o.log.error(reason);
      await this.replace(previous, conversation);
      this.report({ kind: "profile", event: "failed", name: next.name, title: next.title, from: previous.name, message: reason });
      return { ok: false, reason };
    } finally {
      this.pending = null;
    }
  }

  /**
   * A new conversation with `profile`'s agent (the active one's through its backend, which tells
   * the server where it can; another's saved ids are forgotten, so its next turn starts afresh).
   */
  newConversation(profile: string | undefined, user?: string): { ok: true } | { ok: false; reason: string } {
    const p = profile === undefined ? this.current : this.o.factory.profile(profile);
    if (!p) return { ok: false, reason: `no agent profile is named '${profile}'; the profiles are ${this.profiles.map((x) => x.name).join(", ")}` };
    if (p === this.current) {
      this.conversation?.newConversation(user);
      return { ok: true };
    }
    forgetSavedConversations(this.o.state, ownsScope(p.name), user);
    this.o.log.info(`the agent profile ${p.name}: ${user === undefined ? "every user's" : `${user}'s`} next turn starts a new conversation`);
    this.o.conversationEnded?.(p.name, user);
    return { ok: true };
  }

  /**
   * The credentials from a re-read config: every profile's for its next link, and the active
   * one's handed to its backend at once; false: the active profile has none there.
   */
  reload(next: Config): boolean {
    const credentials = this.o.factory.credentials(this.current, next);
    this.o.factory.reload(next);
    if (!credentials) return false;
    this.backend.updateCredentials(credentials);
    return true;
  }

  private report(a: DeviceActivity): void {
    for (const l of this.activityListeners) l(a);
  }

  /** The profile to start with: the one in use at the last stop, if the config still has it. */
  private startingProfile(): AgentProfile {
    const saved = this.o.state.get(ACTIVE_PROFILE_KEY);
    const profiles = this.o.factory.profiles;
    const found = typeof saved === "string" ? profiles.find((p) => p.name === saved) : undefined;
    if (typeof saved === "string" && !found) this.o.log.warn(`the agent profile '${saved}' in use at the last stop is no longer in the config; starting with ${DEFAULT_PROFILE}`);
    return found ?? profiles[0]!;
  }

  /** Ends what goes on, closes the link in use and opens `profile`'s; resolves with null once it is up, or why not. */
  private async replace(profile: AgentProfile, conversation: SwitchedConversation): Promise<string | null> {
    conversation.agentChanging();
    const old = this.backend.active;
    const fresh = this.o.factory.create(profile, conversation.mode);
    // From here the old backend is not heard: its closing link.down is no news to the conversation.
    this.backend.use(fresh);
    await this.bounded(old.stop(), STOP_MS, () => this.o.log.warn(`the previous agent's link did not close within ${STOP_MS} ms; opening the next one anyway`));
    const ready = firstLink(fresh, this.o.clock, profile.agent.connect_timeout_ms + READY_MARGIN_MS);
    fresh.start();
    // A profile that did not come up is closed by the replace that brings the previous one back.
    return ready;
  }

  private async bounded(p: Promise<void>, ms: number, late: () => void): Promise<void> {
    let timer: ReturnType<Clock["setTimeout"]> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = this.o.clock.setTimeout(() => {
        late();
        resolve();
      }, ms);
    });
    try {
      await Promise.race([p.catch((err: Error) => this.o.log.debug({ err: err.message }, "closing an agent link")), timeout]);
    } finally {
      this.o.clock.clearTimeout(timer);
    }
  }
}

/** Null once the link is up; why not when it goes down first or nothing happens in `ms`. */
function firstLink(backend: AgentBackend, clock: Clock, ms: number): Promise<string | null> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (why: string | null): void => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      resolve(why);
    };
    const timer = clock.setTimeout(() => finish(`no session within ${Math.round(ms / 1000)} s`), ms);
    backend.subscribe((e: AgentEvent) => {
      if (e.type === "link.ready") finish(null);
      else if (e.type === "link.down") finish(`${e.problem}: ${e.message}`);
    });
  });
}
