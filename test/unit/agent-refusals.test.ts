/**
 * Errors a user can act on (issue 17): the Coze link against the real emulator, which refuses
 * a bad token (HTTP 401) and, by bot id, an unpublished bot (4015), a used-up quota (4008) and
 * bad settings (4000); timers on a fake clock. Each is its own problem, held for
 * agent.reconnect.auth_failure_ms (never a hot loop); a press retries once only where the user
 * can have fixed it elsewhere (quota, publishing). The Realtime and voice API mappings are
 * tables of their documented errors.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CozeBackend } from "../../src/agent/coze/client";
import type { AgentEvent, LinkProblem } from "../../src/agent/events";
import { classifyRejection } from "../../src/agent/realtime/rejection";
import { classifyError } from "../../src/agent/realtime/protocol";
import { refusalProblem } from "../../src/agent/voiceapi/client";
import { startEmulator, type Emulator } from "../../src/emulator/server";
import { silentLogger } from "../../src/log/logger";
import { FakeClock } from "../support/fake-clock";
import { cozeLinkOptions } from "../support/coze-link";

const HOLD_MS = 300_000;

describe("Coze refusals the user must act on", () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ token: "tok-1234" });
  });
  after(() => emu.close());

  const cases: Array<[what: string, botId: string, token: string, problem: LinkProblem, message: RegExp, pressRetries: boolean]> = [
    ["a rejected token (HTTP 401)", "b1", "wrong", "auth", /HTTP 401.*TALKBOX_TOKEN/, false],
    ["a bot not published (4015)", "unpublished", "tok-1234", "not_found", /not published.*\(4015\).*Publish → API/, true],
    ["a used-up quota (4008)", "no-quota", "tok-1234", "quota", /quota.*\(4008\).*billing/, true],
    ["settings the bot refuses (4000)", "bad-params", "tok-1234", "bad_request", /invalid parameter.*\(4000\).*talkbox config check/, false],
  ];
  for (const [what, botId, token, problem, message, pressRetries] of cases) {
    test(`${what}: ${problem}, held ${HOLD_MS / 60_000} min, ${pressRetries ? "a press retries once" : "a press does not retry"}`, async () => {
      const clock = new FakeClock();
      const events: AgentEvent[] = [];
      let wake: (() => void) | null = null;
      const backend = new CozeBackend(cozeLinkOptions(emu.url, { botId, token }), silentLogger(), clock);
      backend.subscribe((e) => {
        events.push(e);
        if (e.type === "link.down") wake?.();
      });
      const down = (): Promise<void> => new Promise((resolve) => (wake = resolve));
      const connects = (): number => events.filter((e) => e.type === "link.connecting").length;
      const lastDown = () => events.findLast((e): e is Extract<AgentEvent, { type: "link.down" }> => e.type === "link.down")!;
      try {
        let failed = down();
        backend.start();
        await failed;
        const first = lastDown();
        assert.equal(first.problem, problem);
        assert.equal(first.retryInMs, HOLD_MS);
        assert.match(first.message, message);
        assert.equal(connects(), 1);

        // A press.
        failed = down();
        backend.wake();
        if (pressRetries) {
          await failed;
          assert.equal(connects(), 2, "a press after a fixable refusal tries once");
        } else {
          assert.equal(connects(), 1, "a press retried what only a config change can fix");
        }
        // Minutes of nothing, then one attempt: never a hot loop.
        const before = connects();
        clock.advance(HOLD_MS - 1);
        assert.equal(connects(), before, "retried before the hold was over");
        failed = down();
        clock.advance(1);
        assert.equal(connects(), before + 1);
        await failed;
        assert.equal(lastDown().problem, problem);
        assert.equal(lastDown().retryInMs, HOLD_MS);
      } finally {
        await backend.stop();
      }
    });
  }
});

describe("Realtime and voice API refusals", () => {
  test("the Realtime handshake: 404 no such agent, 400 bad settings, 429 quota or a rate limit", () => {
    const p = (status: number, body = "") => classifyRejection(status, body, "openai", false).problem;
    assert.equal(p(401), "auth");
    assert.equal(p(403), "auth");
    assert.equal(p(404, JSON.stringify({ error: { code: "model_not_found", message: "The model gpt-x does not exist" } })), "not_found");
    assert.equal(p(400), "bad_request");
    assert.equal(p(429, JSON.stringify({ error: { code: "insufficient_quota", message: "You exceeded your current quota" } })), "quota");
    assert.equal(p(429, JSON.stringify({ error: { code: "rate_limit_exceeded", message: "Rate limit reached" } })), "server", "a rate limit passes: the ordinary back-off");
    assert.equal(p(503), "server");
  });

  test("Realtime error events: quota and a missing model end the link; an item not found does not", () => {
    const k = (code: string, message: string, type = "invalid_request_error") => classifyError({ type, code, message });
    assert.equal(k("insufficient_quota", "You exceeded your current quota"), "quota");
    assert.equal(k("model_not_found", "The model does not exist"), "not-found");
    assert.equal(k("item_not_found", "Item with id 'x' not found"), "other");
    assert.equal(k("invalid_api_key", "Incorrect API key"), "auth");
  });

  test("the voice API's error frame in answer to the open frame: its words decide", () => {
    assert.equal(refusalProblem("invalid API key"), "auth");
    assert.equal(refusalProblem("quota exceeded for this channel"), "quota");
    assert.equal(refusalProblem("bot not found"), "not_found");
    assert.equal(refusalProblem("invalid overrides: stt.sample_rate"), "bad_request");
    assert.equal(refusalProblem("internal error"), "server");
  });
});
