/**
 * The backend the conversation talks to while agent profiles come and go: it passes every
 * call to the profile's backend in use and lets through the events of that one only, so the
 * conversation never hears a backend it is no longer using (its closing `link.down`, a late
 * reply). Capabilities and the optional methods are the current backend's, read at each use.
 */
import type { AgentBackend, AgentSpeech, BackendCapabilities, Credentials, HeardAnnouncement, ToolOutput, TurnContext } from "../../agent/backend";
import type { AgentEvent } from "../../agent/events";

export class SwitchingBackend implements AgentBackend {
  private current: AgentBackend;
  private readonly listeners: Array<(event: AgentEvent) => void> = [];

  constructor(first: AgentBackend) {
    this.current = first;
    this.listen(first);
  }

  /** The backend in use. */
  get active(): AgentBackend {
    return this.current;
  }

  /** From now on `next` is the agent (not started here); the previous one is no longer heard. */
  use(next: AgentBackend): void {
    this.current = next;
    this.listen(next);
  }

  get name(): string {
    return this.current.name;
  }
  get formats(): AgentBackend["formats"] {
    return this.current.formats;
  }
  get capabilities(): BackendCapabilities {
    return this.current.capabilities;
  }

  subscribe(listener: (event: AgentEvent) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.current.start();
  }
  stop(): Promise<void> {
    return this.current.stop();
  }
  wake(): void {
    this.current.wake();
  }
  beginTurn(turn: TurnContext): boolean {
    return this.current.beginTurn(turn);
  }
  appendAudio(frame: Buffer): boolean {
    return this.current.appendAudio(frame);
  }
  commitTurn(): boolean {
    return this.current.commitTurn();
  }
  abortTurn(): void {
    this.current.abortTurn();
  }
  cancelReply(heardMs?: number): boolean {
    return this.current.cancelReply(heardMs);
  }
  submitToolOutputs(outputs: ToolOutput[]): boolean {
    return this.current.submitToolOutputs(outputs);
  }
  resetConversation(userId?: string): void {
    this.current.resetConversation(userId);
  }
  setTurnDetection(mode: "push-to-talk" | "free"): void {
    this.current.setTurnDetection(mode);
  }
  updateCredentials(credentials: Credentials): void {
    this.current.updateCredentials(credentials);
  }

  // The optional methods: present exactly when the backend in use has them.
  get rememberAnnouncement(): ((a: HeardAnnouncement) => boolean) | undefined {
    const b = this.current;
    return b.rememberAnnouncement?.bind(b);
  }
  get synthesize(): ((text: string, rate: number, signal: AbortSignal) => AgentSpeech) | undefined {
    const b = this.current;
    return b.synthesize?.bind(b);
  }
  get sendText(): ((text: string, turn: TurnContext) => boolean) | undefined {
    const b = this.current;
    return b.sendText?.bind(b);
  }
  get updateContext(): ((context: Record<string, string>) => void) | undefined {
    const b = this.current;
    return b.updateContext?.bind(b);
  }

  private listen(backend: AgentBackend): void {
    backend.subscribe((event) => {
      if (this.current !== backend) return;
      for (const l of this.listeners) l(event);
    });
  }
}
