/** The Realtime response tracker: one response at a time, and what an error in place of one does. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Responses } from "../../src/agent/realtime/responses";
import { silentLogger } from "../../src/log/logger";
import { FakeClock } from "../support/fake-clock";

function tracker(): { responses: Responses; sent: string[]; bodies: unknown[]; failed: string[]; clock: FakeClock } {
  const sent: string[] = [];
  const bodies: unknown[] = [];
  const failed: string[] = [];
  const clock = new FakeClock();
  let n = 0;
  const responses = new Responses({
    send: (type, fields) => {
      sent.push(type);
      if (type === "response.create") bodies.push(fields?.response);
      return `evt-${++n}`;
    },
    replyCanceled: () => undefined,
    announcementFailed: (why) => failed.push(why),
    createTimeoutMs: 10_000,
    clock,
    log: silentLogger(),
  });
  return { responses, sent, bodies, failed, clock };
}

const ANNOUNCE = { kind: "announcement" as const, response: { instructions: "say it" } };

describe("Realtime responses", () => {
  test("a second request waits for the first response to finish", () => {
    const { responses, sent } = tracker();
    responses.request();
    responses.request();
    assert.deepEqual(sent, ["response.create"]);
    responses.created("resp-1");
    responses.done({ id: "resp-1", status: "completed", calls: [] });
    assert.deepEqual(sent, ["response.create", "response.create"]);
  });

  test("an error in place of the response: the next turn asks at once, and its response is not canceled", () => {
    const { responses, sent } = tracker();
    responses.request();
    // The turn ended with the error; the conversation cancels the reply it no longer waits for.
    responses.interrupt(undefined);
    responses.failedWhileRequested();
    responses.request();
    assert.deepEqual(sent, ["response.create", "response.create"], "asked at once, not after the create timeout");
    responses.created("resp-2");
    assert.deepEqual(sent, ["response.create", "response.create"], "the new response is not canceled");
  });

  test("a create the server never answers: later requests go out after the timeout, uncanceled", () => {
    const { responses, sent, clock } = tracker();
    responses.request();
    responses.interrupt(undefined);
    responses.request();
    clock.advance(10_000);
    assert.deepEqual(sent, ["response.create", "response.create"]);
    responses.created("resp-2");
    assert.deepEqual(sent, ["response.create", "response.create"]);
  });
});

describe("Realtime responses: a response.done that never comes", () => {
  test("the server refuses our cancel (no active response): the next request goes out at once", () => {
    const { responses, sent } = tracker();
    responses.request();
    responses.created("resp-1");
    responses.interrupt("resp-1");
    responses.request();
    assert.deepEqual(sent, ["response.create", "response.cancel"]);
    responses.refused("evt-2");
    assert.deepEqual(sent, ["response.create", "response.cancel", "response.create"]);
  });

  test("the server ignores our cancel: later requests go out after the timeout", () => {
    const { responses, sent, clock } = tracker();
    responses.request();
    responses.created("resp-1");
    responses.interrupt("resp-1");
    responses.request();
    clock.advance(9_999);
    assert.deepEqual(sent, ["response.create", "response.cancel"]);
    clock.advance(1);
    assert.deepEqual(sent, ["response.create", "response.cancel", "response.create"]);
  });

  test("a response that ends normally after the cancel: nothing fires later", () => {
    const { responses, sent, clock } = tracker();
    responses.request();
    responses.created("resp-1");
    responses.interrupt("resp-1");
    responses.done({ id: "resp-1", status: "canceled", calls: [] });
    responses.request();
    responses.created("resp-2");
    clock.advance(20_000);
    assert.deepEqual(sent, ["response.create", "response.cancel", "response.create"]);
  });
});

describe("Realtime responses: announcements in the agent's voice", () => {
  test("mode 1 during a reply: the announcement is asked for once the cancelled reply is done, with its own body, and its response is one", () => {
    const { responses, sent, bodies } = tracker();
    responses.request();
    assert.equal(responses.created("resp-1"), "reply");
    responses.dropQueued();
    responses.interrupt("resp-1");
    responses.request(ANNOUNCE);
    assert.deepEqual(sent, ["response.create", "response.cancel"]);
    responses.done({ id: "resp-1", status: "canceled", calls: [] });
    assert.deepEqual(sent, ["response.create", "response.cancel", "response.create"]);
    assert.deepEqual(bodies[1], { instructions: "say it" });
    assert.equal(responses.created("resp-2"), "announcement");
  });

  test("cut while asked for: cancelled as it starts; cut while waiting: never asked for; a queued reply is not dropped with it", () => {
    const { responses, sent } = tracker();
    responses.request(ANNOUNCE);
    responses.cancelAnnouncement(undefined);
    responses.created("resp-1");
    assert.deepEqual(sent, ["response.create", "response.cancel"]);
    responses.request(ANNOUNCE);
    responses.request();
    responses.cancelAnnouncement("resp-1");
    responses.done({ id: "resp-1", status: "canceled", calls: [] });
    assert.deepEqual(sent, ["response.create", "response.cancel", "response.create"]);
    assert.equal(responses.created("resp-2"), "reply");
  });

  test("cut while it runs: cancelled; an announcement's create refused or unanswered is reported (the device's voice takes over)", () => {
    const { responses, sent, failed, clock } = tracker();
    responses.request(ANNOUNCE);
    responses.created("resp-1");
    responses.cancelAnnouncement("resp-1");
    assert.deepEqual(sent, ["response.create", "response.cancel"]);
    responses.done({ id: "resp-1", status: "canceled", calls: [] });
    responses.request(ANNOUNCE);
    responses.refused("evt-3");
    assert.deepEqual(failed, ["the agent refused response.create"]);
    responses.request(ANNOUNCE);
    clock.advance(10_000);
    assert.deepEqual(failed, ["the agent refused response.create", "no response within 10000 ms"]);
  });
});
