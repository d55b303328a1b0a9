/** What Coze's refusal of the WebSocket handshake means, in words that say what to fix. */
import type { LinkFailure } from "../link/ws-link";
import { errorHint, linkHoldingProblem, str } from "./protocol";

/** The HTTP status, with the Coze error code of the body when it names one. */
export function classifyRejection(status: number, body: string): LinkFailure {
  const detail = parseErrorBody(body);
  const why = detail ? `: ${detail.msg} (${detail.code})` : "";
  if (status === 401 || status === 403 || (detail && linkHoldingProblem(detail.code) === "auth")) {
    const hint =
      status === 401
        ? "check agent.token / TALKBOX_TOKEN: create a new personal access token with chat permission"
        : "check that the token may use this bot (agent.coze.bot_id) and that the account is enabled for voice chat";
    return { problem: "auth", message: `${status === 401 ? "the token was rejected (HTTP 401)" : `access denied (HTTP ${status})`}${why}; ${hint}` };
  }
  const hint = detail ? errorHint(detail.code) : undefined;
  const held = detail ? linkHoldingProblem(detail.code, true) : null;
  return { problem: held ?? "server", message: `the agent refused the connection (HTTP ${status})${why}${hint ? `; ${hint}` : ""}` };
}

function parseErrorBody(body: string): { code: number | string; msg: string } | null {
  try {
    const v = JSON.parse(body) as Record<string, unknown>;
    const inner = (typeof v.data === "object" && v.data !== null ? v.data : v) as Record<string, unknown>;
    const code = inner.code;
    if (typeof code === "number" || typeof code === "string") return { code, msg: str(inner.msg) ?? str(inner.message) ?? "" };
  } catch {
    // not JSON: the status code alone has to do
  }
  return null;
}
