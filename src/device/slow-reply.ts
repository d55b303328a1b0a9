/**
 * The slow-reply phrase (seed 004's "延迟安抚"): when the agent has thought for
 * announce.slow_reply_ms, the device says a short phrase such as "正在处理,请稍等", once per
 * turn. The machine decides when (filler.start / filler.stop effects); this says it, as a cue
 * (shared-playback.ts): it gives way at once to the reply's first audio, and it is not the
 * agent's words, so it never joins the history. The agent's voice when it can speak beside
 * a reply (its synthesis has its own connection, as Coze's), else the device's own.
 */
import type { DeviceActivity } from "../core/activity";
import type { AnnouncementVoice } from "../core/announcement";
import type { Logger } from "../log/logger";
import type { CueEnd, SharedPlayback } from "./shared-playback";
import type { Voices } from "./voices";

export interface SlowReplyOptions {
  text: string;
  voices: Pick<Voices, "agent" | "local" | "hasAgentVoice" | "localName">;
  /** The agent's voice may be used now: preferred, able to speak beside a reply, and the link up. */
  agentVoiceUsable(): boolean;
  speaker: Pick<SharedPlayback, "startCue" | "writeCue" | "endCue" | "stopCue" | "on">;
  log: Logger;
  report(activity: DeviceActivity): void;
}

interface Saying {
  id: string;
  voice: AnnouncementVoice;
  abort: AbortController;
}

export class SlowReply {
  private current: Saying | null = null;
  private seq = 0;

  constructor(private readonly o: SlowReplyOptions) {
    // Only one cue plays at a time, so while the phrase is being said a cue's end is its end.
    o.speaker.on("cue.ended", (how: CueEnd) => {
      const c = this.current;
      if (c) this.end(c, how === "drained" ? "completed" : "interrupted");
    });
  }

  /** The machine's filler.start: say the phrase, if the speaker is quiet. */
  start(): void {
    if (this.current) return;
    const voice: AnnouncementVoice = this.o.agentVoiceUsable() && this.o.voices.hasAgentVoice ? "agent" : "local";
    if (voice === "local" && this.o.voices.localName === null) {
      this.o.log.debug("no voice to say the slow-reply phrase with");
      return;
    }
    if (!this.o.speaker.startCue()) {
      this.o.log.debug("the slow-reply phrase is not said: the speaker is busy");
      return;
    }
    const c: Saying = { id: `slow-reply-${++this.seq}`, voice, abort: new AbortController() };
    this.current = c;
    this.o.log.info({ voice }, `the agent is slow to answer; saying: ${this.o.text}`);
    this.report(c, "started");
    this.say(c).catch((err: Error) => {
      if (this.current !== c) return;
      this.o.log.warn(`the slow-reply phrase could not be said: ${err.message}`);
      this.o.speaker.stopCue();
    });
  }

  /** The machine's filler.stop: the agent answered (or the turn ended otherwise). */
  stop(): void {
    const c = this.current;
    if (!c) return;
    c.abort.abort();
    // Cut at once if it still plays; a reply's first audio has already cut it.
    this.o.speaker.stopCue();
    if (this.current === c) this.end(c, "interrupted");
  }

  private async say(c: Saying): Promise<void> {
    let any = false;
    const play = async (audio: AsyncIterable<Buffer>): Promise<void> => {
      for await (const pcm of audio) {
        if (this.current !== c) return;
        any ||= pcm.length > 0;
        this.o.speaker.writeCue(pcm);
      }
    };
    try {
      await play(c.voice === "agent" ? this.o.voices.agent(this.o.text, c.abort.signal) : this.o.voices.local(this.o.text, c.abort.signal));
    } catch (err) {
      // The agent's voice failed before a sound: the device's own says it.
      if (c.voice !== "agent" || any || this.current !== c || this.o.voices.localName === null) throw err;
      this.o.log.debug(`the agent cannot say the slow-reply phrase (${(err as Error).message}); the device's own voice does`);
      c.voice = "local";
      await play(this.o.voices.local(this.o.text, c.abort.signal));
    }
    if (this.current !== c) return;
    if (any) this.o.speaker.endCue();
    else this.o.speaker.stopCue();
  }

  private end(c: Saying, how: "completed" | "interrupted"): void {
    this.current = null;
    c.abort.abort();
    this.report(c, how);
  }

  private report(c: Saying, event: "started" | "completed" | "interrupted"): void {
    this.o.report({ kind: "announcement", id: c.id, event, text: this.o.text, source: "slow-reply", voice: c.voice });
  }
}
