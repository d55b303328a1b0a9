/** What a refused handshake or a rejected key means on a Realtime server, in words that say what to fix. */
import type { LinkFailure } from "../link/ws-link";
import { obj, str, type RealtimeFlavour } from "./protocol";

export function authHint(flavour: RealtimeFlavour, cozeBot: boolean): string {
  if (flavour === "openai") return "check agent.token / TALKBOX_TOKEN: an OpenAI API key whose project may use the Realtime model named in agent.url";
  return cozeBot
    ? "check agent.token / TALKBOX_TOKEN: the API key of a gateway access key bound to the voice chat agent (语音对话智能体) and to the Coze bot in agent.realtime.coze_bot_id"
    : "check agent.token / TALKBOX_TOKEN: the API key of a gateway access key bound to the voice chat agent (语音对话智能体)";
}

/** The HTTP status, with the error the body names when it names one. */
export function classifyRejection(status: number, body: string, flavour: RealtimeFlavour, cozeBot: boolean): LinkFailure {
  const detail = parseErrorBody(body);
  const why = detail ? `: ${detail.message}${detail.code ? ` (${detail.code})` : ""}` : "";
  if (status === 401) return { problem: "auth", message: `the key was rejected (HTTP 401)${why}; ${authHint(flavour, cozeBot)}` };
  if (status === 403) {
    const hint =
      flavour === "openai"
        ? "the key's project may not use this model: check agent.token and the model in agent.url"
        : `the gateway access key is not bound to ${cozeBot ? "the voice chat agent and the Coze bot in agent.realtime.coze_bot_id" : "the voice chat agent (语音对话智能体)"}: edit the key's model selection, or check agent.token`;
    return { problem: "auth", message: `access denied (HTTP 403)${why}; ${hint}` };
  }
  // Neither comes right by retrying: the long back-off (HELD_PROBLEMS), not a reconnect every few seconds.
  if (status === 404) return { problem: "not_found", message: `no such agent at agent.url (HTTP 404)${why}; check its path (/v1/realtime), the model in it and agent.realtime.flavour (${flavour})` };
  if (status === 400) {
    const hint = flavour === "openai" ? "check the model in agent.url" : "check the model in agent.url, agent.realtime.custom_model and agent.realtime.coze_bot_id";
    return { problem: "bad_request", message: `the agent refused the request (HTTP 400)${why}; ${hint}` };
  }
  if (status === 429) {
    // A rate limit passes in seconds; a used-up quota does not.
    if (/quota|billing|balance/i.test(`${detail?.code ?? ""} ${detail?.message ?? ""}`)) return { problem: "quota", message: `the account's quota is used up (HTTP 429)${why}; top it up on the platform's billing page` };
    return { problem: "server", message: `too many requests (HTTP 429)${why}; wait, or check the account's limits` };
  }
  return { problem: "server", message: `the agent refused the connection (HTTP ${status})${why}` };
}

function parseErrorBody(body: string): { code: string; message: string } | null {
  try {
    const v = JSON.parse(body) as Record<string, unknown>;
    const inner = obj(v.error) ?? v;
    const message = str(inner.message) ?? str(inner.msg);
    if (message === undefined) return null;
    const code = inner.code;
    return { code: typeof code === "number" ? String(code) : (str(code) ?? str(inner.type) ?? ""), message };
  } catch {
    // not JSON: the status code alone has to do
    return null;
  }
}
