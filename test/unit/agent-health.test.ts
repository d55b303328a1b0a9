import { test } from "node:test";
import assert from "node:assert/strict";
import { AgentHealth } from "../../src/device/agent-health";
import type { DeviceActivity } from "../../src/core/activity";

test("agent health: reachable with the link, answering with the last answer; failures in a row until an answer; a change is reported once", () => {
  const reported: DeviceActivity[] = [];
  const h = new AgentHealth((a) => reported.push(a));
  assert.deepEqual(h.status, { Reachable: false, Answering: null, ConsecutiveFailures: 0 });
  h.linkUp();
  h.linkUp();
  assert.equal(reported.length, 1, "no change, no report");
  h.turnEnded("failed", "no answer in time");
  h.linkDown("server", "the agent closed the connection (code 1011)");
  h.linkUp();
  assert.deepEqual(h.status, { Reachable: true, Answering: false, ConsecutiveFailures: 2, LastFailure: "link server: the agent closed the connection (code 1011)" });
  h.turnEnded("completed");
  assert.deepEqual(h.status, { Reachable: true, Answering: true, ConsecutiveFailures: 0 });
  assert.deepEqual(reported.at(-1), { kind: "agent", reachable: true, answering: true, failures: 0 });
  assert.deepEqual(
    reported.map((a) => (a.kind === "agent" ? `${a.reachable}/${a.answering}/${a.failures}` : "")),
    ["true/null/0", "true/false/1", "false/false/2", "true/false/2", "true/true/0"],
  );
});
