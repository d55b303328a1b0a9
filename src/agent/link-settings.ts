/** The link keys every backend shares (agent.connect_timeout_ms, ping, reconnect): what a backend's link is built with. */
export interface LinkSettings {
  url: string;
  /** The handshake and the session setup after it must both finish within this. */
  connectTimeoutMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** The tighter ping while a reply is expected: a stalled link is noticed within seconds mid-turn. */
  replyPing?: { intervalMs: number; timeoutMs: number };
  reconnect: { initialMs: number; maxMs: number; authFailureMs: number };
}
