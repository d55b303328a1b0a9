import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { capturePeriodsFor } from "../../src/device/capture-periods";

describe("mic period per mode", () => {
  test("unset: short in push-to-talk (the release edge), long in free conversation (fewer wake-ups)", () => {
    const p = capturePeriodsFor(undefined);
    assert.ok(p["push-to-talk"] < p.free, JSON.stringify(p));
    assert.deepEqual(p, { "push-to-talk": 40, free: 80 });
  });

  test("configured: the same in both modes", () => {
    assert.deepEqual(capturePeriodsFor(60), { "push-to-talk": 60, free: 60 });
  });
});
