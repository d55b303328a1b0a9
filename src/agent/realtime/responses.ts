/**
 * The responses of one Realtime link. At most one runs at a time on the server,
 * so `response.create` is never sent while one is requested or running: it
 * waits for `response.done`. Tool calls: see translate.ts for which responses
 * end a reply; the follow-up `response.create` goes out once the function-call
 * response is done AND every call it made has its output.
 */
import type { Logger } from "../../log/logger";
import type { Clock, ClockTimer } from "../../core/clock";
import type { ToolOutput } from "../backend";
import { C } from "./protocol";
import type { FinishedResponse } from "./translate";

/** Where a `response.create` stands: sent and not yet answered by response.created, or running. */
type ResponseState = "idle" | "requested" | "active";

/**
 * What a response is for: the agent's answer, or an announcement in the agent's voice
 * (`response` is its response.create body). A response the server started on its own
 * (server VAD) is a reply.
 */
export type CreateRequest = { kind: "reply" } | { kind: "announcement"; response: Record<string, unknown> };
export type ResponseKind = CreateRequest["kind"];

const REPLY: CreateRequest = { kind: "reply" };

/** A function-call response whose calls wait for the device's outputs. */
interface ToolChain {
  responseId: string;
  pending: Set<string>;
  /** Its response.done arrived: the follow-up may be asked for once nothing is pending. */
  responseDone: boolean;
}

export interface ResponsesOptions {
  /** Sends on the ready link: the event id, or null when the link is not ready. */
  send: (type: string, fields?: Record<string, unknown>) => string | null;
  /** A reply that asked for tools ends without an answer: the backend reports it as canceled. */
  replyCanceled: (replyId: string) => void;
  /** An announcement's response.create was given up (refused, or never answered): why. */
  announcementFailed: (why: string) => void;
  /** How long a response.create may go unanswered before later ones stop waiting for it. */
  createTimeoutMs: number;
  clock: Clock;
  log: Logger;
}

export class Responses {
  private state: ResponseState = "idle";
  /** Creates waiting for the response requested or running, at most one of each kind. */
  private queue: CreateRequest[] = [];
  /** The create sent and not yet answered (state requested). */
  private requested: CreateRequest | null = null;
  /** What the running response is for (state active). */
  private activeKind: ResponseKind | null = null;
  private createEventId: string | null = null;
  private cancelOnCreate = false;
  private createTimer: ClockTimer | undefined;
  /** Our last response.cancel: if the server refuses it, no response is running there. */
  private cancelEventId: string | null = null;
  private cancelTimer: ClockTimer | undefined;
  /** The response the user interrupted: if it still completes with function calls, they are not followed up. */
  private interrupted: string | null = null;
  private chain: ToolChain | null = null;
  /** Calls of interrupted replies: their outputs are dropped, not sent. */
  private readonly droppedCalls = new Set<string>();

  constructor(private readonly o: ResponsesOptions) {}

  /** Asks for a response: now, or once the one requested or running is done. */
  request(r: CreateRequest = REPLY): void {
    if (this.state !== "idle") {
      this.enqueue(r);
      return;
    }
    const id = this.o.send(C.responseCreate, { response: r.kind === "reply" ? { modalities: ["audio", "text"] } : r.response });
    if (!id) {
      if (r.kind === "announcement") this.o.announcementFailed("the link is down");
      return;
    }
    this.createEventId = id;
    this.requested = r;
    this.state = "requested";
    // A create the server silently dropped must not hold every later one back until the link drops.
    this.o.clock.clearTimeout(this.createTimer);
    this.createTimer = this.o.clock.setTimeout(() => {
      if (this.state !== "requested" || this.createEventId !== id) return;
      this.o.log.warn(`the agent did not start a response within ${this.o.createTimeoutMs} ms of response.create; not waiting for it any longer`);
      this.abandonRequest(`no response within ${this.o.createTimeoutMs} ms`);
    }, this.o.createTimeoutMs);
  }

  /** The server met our response.create with one still running: ask again after it. */
  askAgainAfterActive(): void {
    if (this.requested) this.queue.unshift(this.requested);
    // It is asked again, not given up, when the request is abandoned.
    this.requested = null;
  }

  private enqueue(r: CreateRequest): void {
    const i = this.queue.findIndex((q) => q.kind === r.kind);
    if (i >= 0) this.queue[i] = r;
    else this.queue.push(r);
  }

  /** The server refused the client event `eventId`: if it was the pending response.create, nothing runs. */
  refused(eventId: string): void {
    if (eventId === this.cancelEventId && this.state === "active") {
      // "No active response": its response.done was lost; waiting for it would hold every later turn back.
      this.o.log.debug("the agent had no response to cancel; not waiting for one");
      this.endActive();
      return;
    }
    if (eventId !== this.createEventId || this.state !== "requested") return;
    this.abandonRequest("the agent refused response.create");
  }

  /**
   * An error that names no client event, while our response.create waits: it is the
   * answer we get instead of a response (the turn already ended with the error), so
   * the next turn must not wait for it — nor cancel its own response in its place.
   */
  failedWhileRequested(): void {
    if (this.state === "requested") this.abandonRequest("the agent answered response.create with an error");
  }

  private abandonRequest(why: string): void {
    this.o.clock.clearTimeout(this.createTimer);
    const given = this.requested;
    this.state = "idle";
    this.requested = null;
    this.createEventId = null;
    if (given?.kind === "announcement") this.o.announcementFailed(why);
    // The cancel was meant for the abandoned response, not for whichever starts next.
    this.cancelOnCreate = false;
    this.flushQueued();
  }

  /** response.created; `activeId`: the response that now runs. Returns what it is for. */
  created(activeId: string | undefined): ResponseKind {
    // Only one create is ever unanswered, so this is its response; without one, the server's own (VAD).
    const kind = this.state === "requested" ? (this.requested?.kind ?? "reply") : "reply";
    this.state = "active";
    this.activeKind = kind;
    this.requested = null;
    this.createEventId = null;
    this.o.clock.clearTimeout(this.createTimer);
    if (this.cancelOnCreate) {
      this.cancelOnCreate = false;
      this.interrupted = activeId ?? null;
      this.cancel();
    }
    return kind;
  }

  /**
   * response.cancel, bounded: a response whose response.done never comes (lost, or a
   * server that ignores the cancel) must not keep every later response.create queued.
   */
  private cancel(): void {
    this.cancelEventId = this.o.send(C.responseCancel);
    this.o.clock.clearTimeout(this.cancelTimer);
    this.cancelTimer = this.o.clock.setTimeout(() => {
      if (this.state !== "active") return;
      this.o.log.warn(`the agent did not end its response within ${this.o.createTimeoutMs} ms of response.cancel; not waiting for it any longer`);
      this.endActive();
    }, this.o.createTimeoutMs);
  }

  private endActive(): void {
    this.o.clock.clearTimeout(this.cancelTimer);
    this.cancelEventId = null;
    this.state = "idle";
    this.activeKind = null;
    this.flushQueued();
  }

  /** The user no longer waits for an answer that has not been asked for yet. */
  dropQueued(): void {
    this.queue = this.queue.filter((q) => q.kind !== "reply");
  }

  /** The announcement in the agent's voice is cut: not asked for, cancelled as it starts, or cancelled. */
  cancelAnnouncement(activeId: string | undefined): void {
    this.queue = this.queue.filter((q) => q.kind !== "announcement");
    if (this.state === "requested" && this.requested?.kind === "announcement") this.cancelOnCreate = true;
    else if (this.state === "active" && this.activeKind === "announcement") this.interrupt(activeId);
  }

  /** The user interrupted the reply: the running response is canceled, a requested one as soon as it starts. */
  interrupt(activeId: string | undefined): void {
    if (this.state === "active" && activeId) {
      if (this.interrupted !== activeId) {
        this.interrupted = activeId;
        this.cancel();
      }
    } else if (this.state === "requested") {
      this.cancelOnCreate = true;
    }
  }

  /** The user moved on while the tools of a finished function-call response run: that reply ends, their outputs are dropped. */
  abandonTools(): void {
    if (this.chain?.responseDone) this.dropChain(this.chain.responseId, true);
  }

  /** A tool call of response `responseId`. */
  noteCall(callId: string, responseId: string): void {
    if (this.chain?.responseId !== responseId) {
      if (this.chain) this.dropChain(this.chain.responseId, false);
      this.chain = { responseId, pending: new Set(), responseDone: false };
    }
    this.chain.pending.add(callId);
  }

  /** response.done. */
  done(f: FinishedResponse): void {
    this.o.clock.clearTimeout(this.cancelTimer);
    this.cancelEventId = null;
    this.state = "idle";
    this.activeKind = null;
    this.cancelOnCreate = false;
    if (f.calls.length > 0) {
      const wanted = f.status === "completed" && this.interrupted !== f.id;
      if (wanted && this.chain?.responseId === f.id) {
        this.chain.responseDone = true;
        this.continueChain();
      } else {
        // Completed although interrupted (the cancel came too late): translate gave it no reply.done.
        this.dropChain(f.id, f.status === "completed");
      }
    }
    if (this.interrupted === f.id) this.interrupted = null;
    this.flushQueued();
  }

  /** The device's tool outputs: sent for the calls that wait for them; the follow-up once every call has one. */
  submit(outputs: ToolOutput[]): void {
    for (const o of outputs) {
      if (this.droppedCalls.delete(o.callId)) {
        this.o.log.debug({ callId: o.callId }, "dropped a tool output: the reply that asked for it was interrupted");
        continue;
      }
      const chain = this.chain;
      if (!chain?.pending.has(o.callId)) {
        this.o.log.warn({ callId: o.callId }, "no tool call with this id is waiting for an answer (the link may have reconnected since); its output is dropped");
        continue;
      }
      this.o.send(C.itemCreate, { item: { type: "function_call_output", call_id: o.callId, output: o.output } });
      chain.pending.delete(o.callId);
    }
    this.continueChain();
  }

  /** The link is gone, and with it every response on it. */
  reset(): void {
    this.o.clock.clearTimeout(this.createTimer);
    this.o.clock.clearTimeout(this.cancelTimer);
    this.cancelEventId = null;
    this.state = "idle";
    this.queue = [];
    this.requested = null;
    this.activeKind = null;
    this.createEventId = null;
    this.cancelOnCreate = false;
    this.interrupted = null;
    this.chain = null;
    this.droppedCalls.clear();
  }

  private flushQueued(): void {
    const next = this.queue.shift();
    if (next) this.request(next);
  }

  private continueChain(): void {
    const chain = this.chain;
    if (!chain?.responseDone || chain.pending.size > 0) return;
    this.chain = null;
    this.request();
  }

  /** The reply that asked for tools was interrupted: no follow-up; late outputs are dropped. */
  private dropChain(responseId: string, announce: boolean): void {
    if (this.chain?.responseId === responseId) {
      for (const id of this.chain.pending) this.droppedCalls.add(id);
      this.chain = null;
    }
    // Its function-call response got no reply.done (the answer was to go on): end the reply here.
    if (announce) this.o.replyCanceled(responseId);
  }
}
