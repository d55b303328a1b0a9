/**
 * The half of an AgentBackend that is the same for every backend on a WsLink:
 * its listeners, the formats of the ready link, and the link's lifecycle. A
 * backend extends it, creates its link with its protocol's hooks in its
 * constructor, and keeps only its protocol.
 */
import type { AgentEvent } from "../events";
import type { AudioFormat } from "../../core/media";
import type { WsLink } from "./ws-link";

export abstract class LinkedBackend {
  protected abstract readonly link: WsLink;
  /** What the server accepted in the current link's session setup. */
  protected negotiated: { input: AudioFormat; output: AudioFormat } | null = null;
  private readonly listeners: Array<(e: AgentEvent) => void> = [];

  get formats(): { input: AudioFormat; output: AudioFormat } | null {
    return this.link.phase === "ready" ? this.negotiated : null;
  }

  subscribe(listener: (event: AgentEvent) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.link.start();
  }

  stop(): Promise<void> {
    return this.link.stop();
  }

  wake(): void {
    this.link.wake();
  }

  protected emit(e: AgentEvent): void {
    // Watch the link closely from the end of a turn to the end of its reply.
    if (e.type === "input.committed") this.link.setReplyExpected(true);
    else if (e.type === "reply.done" || e.type === "input.empty" || e.type === "agent.error") this.link.setReplyExpected(false);
    for (const l of this.listeners) l(e);
  }
}
