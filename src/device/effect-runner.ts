/**
 * The state machine's effects as stage calls: what "begin a turn", "cancel the reply" or
 * "flush the speaker" mean for the uplink stream, the turn buffer, the reply player and the
 * backend. Ordering inside an effect is deliberate and commented where it matters; the
 * machine decides which effects happen, this decides how.
 */
import type { AgentBackend } from "../agent/backend";
import type { DeviceActivity } from "../core/activity";
import type { Clock } from "../core/clock";
import type { Logger } from "../log/logger";
import type { Announcer } from "./announcer";
import type { EchoGate } from "./echo-gate";
import type { LinkMonitor } from "./link-monitor";
import type { ReplyPlayer } from "./reply-player";
import type { SlowReply } from "./slow-reply";
import type { TextTurns } from "./text-turns";
import type { Effect } from "./state-machine";
import type { TurnBuffer } from "./turn-buffer";
import type { TurnStats } from "./turn-stats";
import type { UplinkStream } from "./uplink-stream";

export interface EffectRunnerOptions {
  mic: Pick<UplinkStream, "startTurn" | "finishTurn" | "abortTurn" | "startStream" | "stopStream">;
  turns: Pick<TurnBuffer, "begin" | "hold" | "commit" | "resend" | "abort">;
  stats: Pick<TurnStats, "begin" | "speechEnded" | "outcome" | "current" | "interrupt">;
  replies: Pick<ReplyPlayer, "turnCommitted" | "interrupt" | "heardMs" | "flush">;
  gate: Pick<EchoGate, "playbackFlushed">;
  announcer: Pick<Announcer, "speak" | "queue" | "drop" | "stop">;
  /** The slow-reply phrase; null when announce.slow_reply_ms is not set. */
  slowReply: Pick<SlowReply, "start" | "stop"> | null;
  texts: Pick<TextTurns, "send" | "refuse">;
  link: Pick<LinkMonitor, "usable">;
  backend: Pick<AgentBackend, "abortTurn" | "cancelReply" | "wake">;
  log: Logger;
  clock: Clock;
  /** The device decides the turns (free conversation without server VAD): it must stop a reply it talks over itself. */
  decidesTurns(): boolean;
  report(activity: DeviceActivity): void;
}

export class EffectRunner {
  constructor(private readonly o: EffectRunnerOptions) {}

  run(e: Effect): void {
    const { mic, turns, stats, replies, backend, log, clock } = this.o;
    switch (e.type) {
      case "turn.begin":
        mic.startTurn();
        stats.begin(e.userId);
        turns.begin(e.userId, this.o.link.usable);
        return;
      case "turn.hold":
        turns.hold();
        log.info("the link dropped while you were talking: holding the turn until it is back");
        return;
      case "turn.commit": {
        const releaseAt = clock.now();
        mic.finishTurn();
        const committed = turns.commit();
        if (committed === "held") {
          stats.speechEnded(releaseAt, clock.now(), true);
          return;
        }
        stats.speechEnded(releaseAt, clock.now(), committed);
        replies.turnCommitted();
        if (!committed) log.warn("could not end the turn: the link to the agent is down");
        return;
      }
      case "turn.resend":
        if (turns.resend()) log.info("the link dropped as the turn ended, before the agent had it: sending it again on the new link");
        return;
      case "turn.abort": {
        mic.abortTurn();
        // A held turn never reached the agent; a live one did, in part.
        const reached = turns.abort();
        if (reached && this.o.link.usable) backend.abortTurn();
        stats.outcome(stats.current?.framesSent === 0 ? "empty" : "aborted");
        return;
      }
      case "stream.start":
        mic.startStream();
        return;
      case "stream.stop":
        mic.stopStream();
        return;
      case "reply.cancel":
        // Stale first: a backend may end the reply within cancelReply.
        replies.interrupt();
        backend.cancelReply(replies.heardMs());
        stats.interrupt();
        stats.outcome("canceled", true);
        return;
      case "reply.discard":
        // A server VAD stops its own reply when it hears the user; with local turns the device must ask.
        replies.interrupt();
        if (this.o.decidesTurns()) backend.cancelReply(replies.heardMs());
        stats.interrupt();
        stats.outcome("canceled", true);
        return;
      case "playback.flush":
        replies.flush();
        this.o.gate.playbackFlushed();
        return;
      case "link.wake":
        backend.wake();
        return;
      case "notice":
        log[e.level](e.message);
        this.o.report({ kind: "notice", level: e.level, message: e.message });
        return;
      case "announce.speak":
        this.o.announcer.speak(e.id);
        return;
      case "announce.queue":
        this.o.announcer.queue(e.id, e.position);
        return;
      case "announce.drop":
        this.o.announcer.drop(e.id, e.reason);
        return;
      case "announce.stop":
        this.o.announcer.stop(e.id);
        return;
      case "filler.start":
        this.o.slowReply?.start();
        return;
      case "filler.stop":
        this.o.slowReply?.stop();
        return;
      case "text.send":
        this.o.texts.send(e.id, e.userId);
        return;
      case "text.refuse":
        this.o.texts.refuse(e.id, e.reason);
        return;
    }
  }
}
