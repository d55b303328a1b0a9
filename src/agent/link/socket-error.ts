/** A socket error in words a maker can act on (the errno alone says little). */
export function describeSocketError(err: Error & { code?: string }): string {
  switch (err.code) {
    case "ECONNREFUSED":
      return "connection refused by the agent's host";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "the agent's host name does not resolve (no network or DNS?)";
    case "ETIMEDOUT":
      return "connection timed out";
    case "ENETUNREACH":
    case "EHOSTUNREACH":
      return "network unreachable (is Wi-Fi up?)";
    default:
      return err.message;
  }
}
