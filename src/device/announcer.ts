/**
 * Announcements, as a conversation stage: the texts, the voices and their audio. The state
 * machine decides when one is spoken, waits or is dropped (announce.* effects); this
 * carries it out: the agent's own voice when the backend can speak and the link is up,
 * else the device's offline voice, always through the same playback as replies (instant
 * flush, volume, echo gate). It tells the machine when an announcement has been heard to
 * its end (the playback drained) or could not be spoken, and keeps what was heard of it in
 * the agent's history (seed 004, Q2 and Q3).
 */
import type { AgentBackend } from "../agent/backend";
import type { Clock } from "../core/clock";
import {
  firstChars,
  charCount,
  typicalSpeechMs,
  type Announcement,
  type AnnouncementDecision,
  type AnnouncementSource,
  type AnnouncementVoice,
  type InterruptMode,
} from "../core/announcement";
import type { DeviceActivity } from "../core/activity";
import { msFor, type PcmFormat } from "../core/pcm";
import type { Logger } from "../log/logger";
import type { DeviceInput } from "./state-machine";
import { NO_LOCAL_VOICE, type Voices } from "./voices";

/** The playback the announcer shares with replies. */
export interface AnnouncerPlayback {
  readonly format: PcmFormat;
  write(pcm: Buffer): void;
  endOfReply(): void;
  on(event: "started", listener: (at: number) => void): unknown;
  on(event: "drained", listener: () => void): unknown;
}

export interface AnnouncerOptions {
  backend: Pick<AgentBackend, "rememberAnnouncement">;
  playback: AnnouncerPlayback;
  /** The agent's voice and the device's offline one (without either, an announcement fails, said in the reply). */
  voices: Pick<Voices, "agent" | "local" | "hasAgentVoice" | "localName">;
  /** "agent": the agent's voice when it can speak; "local": always the device's own. */
  prefer: AnnouncementVoice;
  /** The link is up and the agent can be told what was said. */
  linkUsable(): boolean;
  clock: Clock;
  log: Logger;
  dispatch(input: DeviceInput): void;
  report(activity: DeviceActivity): void;
}

/** What the control command (or a feature) gets back at once. */
export interface AnnounceResult {
  id: string;
  decision: AnnouncementDecision;
  /** Spoken: which voice speaks it. */
  voice?: AnnouncementVoice;
  /** Queued: its place among those waiting (1 = next). */
  position?: number;
  /** Dropped: why. */
  reason?: string;
}

/** An announcement being spoken. */
interface Speaking {
  a: Announcement;
  voice: AnnouncementVoice;
  abort: AbortController;
  /** Milliseconds of its audio handed to the playback so far; whole once `sourced`. */
  audioMs: number;
  sourced: boolean;
  startedAt: number | null;
}

/** Texts kept for announcements that wait or speak; more are not accepted (the machine bounds the queue too). */
const MAX_KEPT = 64;

export class Announcer {
  private readonly texts = new Map<string, Announcement>();
  private current: Speaking | null = null;
  private seq = 0;
  /** The request being decided, and what the machine decided for it (effects for other ids, such as a waiting one starting, are not its answer). */
  private requesting: string | null = null;
  private decided: AnnounceResult | null = null;

  constructor(private readonly o: AnnouncerOptions) {
    o.playback.on("started", (at) => {
      if (this.current && this.current.startedAt === null) this.current.startedAt = at;
    });
    o.playback.on("drained", () => {
      const c = this.current;
      if (!c || !c.sourced) return;
      this.finish(c, { ok: true });
    });
  }

  /** Asks the device to speak `text` (already validated: 1–200 characters). */
  request(text: string, mode: InterruptMode, source: AnnouncementSource): AnnounceResult {
    const id = `announce-${++this.seq}`;
    if (this.texts.size >= MAX_KEPT) return { id, decision: "dropped", reason: "too many announcements are waiting; try again when the device is idle" };
    this.texts.set(id, { id, text, mode, source });
    this.requesting = id;
    this.decided = null;
    this.o.dispatch({ type: "announce.request", id, mode });
    // Nothing decided: the request came while the machine was handling an input, and waits
    // behind it in the machine's queue (callers from inside it, like the alerts, defer instead).
    const result = this.decided ?? { id, decision: "queued" as const };
    this.requesting = null;
    this.decided = null;
    return result;
  }

  /** The machine's announce.speak: speak it now. */
  speak(id: string): void {
    const a = this.texts.get(id);
    if (!a) return;
    // The agent's voice when it has one and the link is up; else, and when that fails before any audio, the device's.
    const voice: AnnouncementVoice = this.o.prefer === "agent" && this.o.voices.hasAgentVoice && this.o.linkUsable() ? "agent" : "local";
    const c: Speaking = { a, voice, abort: new AbortController(), audioMs: 0, sourced: false, startedAt: null };
    this.current = c;
    this.record({ id, decision: "spoken", voice });
    this.o.log.info({ id, mode: a.mode, source: a.source, voice, chars: charCount(a.text) }, `announcing: ${a.text}`);
    this.o.report({ kind: "announcement", id, event: "started", text: a.text, voice, source: a.source });
    this.play(c).catch((err: Error) => {
      if (this.current === c) this.finish(c, { ok: false, message: err.message });
    });
  }

  /** The machine's announce.queue. */
  queue(id: string, position: number): void {
    this.record({ id, decision: "queued", position });
    this.o.log.info({ id, position }, "announcement queued until the current interaction ends");
  }

  /** The machine's announce.drop. */
  drop(id: string, reason: string): void {
    const a = this.texts.get(id);
    this.texts.delete(id);
    this.record({ id, decision: "dropped", reason });
    this.o.log.info({ id }, `announcement dropped: ${reason}`);
    if (a) this.o.report({ kind: "announcement", id, event: "dropped", text: a.text, source: a.source, reason });
  }

  /** The machine's announce.stop: cut short (the machine flushes the playback with it). */
  stop(id: string): void {
    const c = this.current;
    if (!c || c.a.id !== id) return;
    c.abort.abort();
    this.end(c, "interrupted");
  }

  private record(r: AnnounceResult): void {
    if (r.id === this.requesting) this.decided = r;
  }

  private async play(c: Speaking): Promise<void> {
    if (c.voice === "agent") {
      const problem = await this.fromAgent(c);
      if (this.current !== c) return;
      if (problem !== null) {
        if (c.audioMs > 0) {
          // Half of it was said in the agent's voice: the rest in another would be worse than the cut.
          this.o.log.warn(`the agent's voice stopped mid-announcement (${problem}); it ends there`);
        } else {
          this.o.log.warn(`the agent cannot speak the announcement (${problem}); the device's own voice does`);
          c.voice = "local";
          this.o.report({ kind: "announcement", id: c.a.id, event: "started", text: c.a.text, voice: "local", source: c.a.source });
        }
      }
    }
    if (c.voice === "local") {
      if (this.o.voices.localName === null) {
        this.finish(c, { ok: false, message: NO_LOCAL_VOICE });
        return;
      }
      try {
        for await (const pcm of this.o.voices.local(c.a.text, c.abort.signal)) {
          if (this.current !== c) return;
          this.write(c, pcm);
        }
      } catch (err) {
        if (this.current !== c) return;
        this.finish(c, { ok: false, message: (err as Error).message });
        return;
      }
    }
    if (this.current !== c) return;
    c.sourced = true;
    if (c.audioMs === 0) {
      this.finish(c, { ok: true });
      return;
    }
    this.o.playback.endOfReply();
  }

  /** The agent's voice: null when it spoke the whole text, else what went wrong. */
  private async fromAgent(c: Speaking): Promise<string | null> {
    try {
      for await (const pcm of this.o.voices.agent(c.a.text, c.abort.signal)) {
        if (this.current !== c) return null;
        this.write(c, pcm);
      }
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  private write(c: Speaking, pcm: Buffer): void {
    if (pcm.length === 0) return;
    this.o.playback.write(pcm);
    c.audioMs += msFor(this.o.playback.format, pcm.length);
  }

  private finish(c: Speaking, r: { ok: boolean; message?: string }): void {
    this.end(c, r.ok ? "completed" : "failed");
    this.o.dispatch({ type: "announce.done", id: c.a.id, ok: r.ok, ...(r.message ? { message: r.message } : {}) });
  }

  /** It is over: what was heard joins the agent's history. */
  private end(c: Speaking, how: "completed" | "interrupted" | "failed"): void {
    if (this.current === c) this.current = null;
    this.texts.delete(c.a.id);
    const heardMs = how === "completed" ? c.audioMs : how === "failed" || c.startedAt === null ? 0 : Math.max(0, Math.min(this.o.clock.now() - c.startedAt, c.audioMs));
    const heard = how === "completed" ? c.a.text : this.heardText(c, heardMs);
    this.o.log.info({ id: c.a.id, heardMs: Math.round(heardMs) }, `announcement ${how}`);
    this.o.report({ kind: "announcement", id: c.a.id, event: how, text: c.a.text, heard, voice: c.voice, source: c.a.source });
    if (!this.o.linkUsable()) return;
    this.o.backend.rememberAnnouncement?.({ text: c.a.text, heard, heardMs, complete: how === "completed", byAgent: c.voice === "agent" });
  }

  /**
   * The part of the text that was heard, by the share of its audio that played: voices
   * speak at an even pace, so characters follow time closely enough for the history. A voice
   * still streaming (its whole length not known yet) is taken to speak at a typical pace.
   */
  private heardText(c: Speaking, heardMs: number): string {
    if (heardMs <= 0 || c.audioMs <= 0) return "";
    const totalMs = c.sourced ? c.audioMs : Math.max(c.audioMs, typicalSpeechMs(c.a.text));
    return firstChars(c.a.text, Math.min(charCount(c.a.text), Math.round((charCount(c.a.text) * heardMs) / totalMs)));
  }
}
