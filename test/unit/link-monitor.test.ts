/** The link monitor alone: status, usability and what it reports, as the link comes and goes. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { DeviceActivity } from "../../src/core/activity";
import type { AudioFormat } from "../../src/core/media";
import { LinkMonitor } from "../../src/device/link-monitor";
import { silentLogger } from "../../src/log/logger";

const PCM16: AudioFormat = { codec: "pcm", sampleRate: 16000, channels: 1 };
const PCM24: AudioFormat = { codec: "pcm", sampleRate: 24000, channels: 1 };

function rig() {
  const reported: DeviceActivity[] = [];
  let t = Date.UTC(2026, 11, 5, 12, 0, 0);
  const link = new LinkMonitor({ wire: { uplink: PCM16, downlink: PCM24 }, log: silentLogger(), report: (a) => void reported.push(a), now: () => new Date((t += 1000)) });
  return { link, reported };
}

describe("link monitor", () => {
  test("connecting → ready with the device's formats: usable, reported once each", () => {
    const { link, reported } = rig();
    assert.equal(link.status.state, "connecting");
    assert.equal(link.usable, false);
    link.connecting();
    assert.equal(link.ready(PCM16, PCM24), true);
    assert.equal(link.usable, true);
    assert.deepEqual(link.status, { state: "ready", input: PCM16, output: PCM24, since: "2026-12-05T12:00:03.000Z" });
    assert.deepEqual(reported, [{ kind: "link", state: "connecting" }, { kind: "link", state: "ready" }]);
  });

  test("formats other than the device's: not usable, down as a protocol problem that names the keys", () => {
    const { link } = rig();
    assert.equal(link.ready(PCM16, PCM16), false);
    assert.equal(link.usable, false);
    assert.equal(link.status.state, "down");
    assert.equal(link.status.problem, "protocol");
    assert.match(link.status.message!, /downlink pcm\/16000 instead of pcm\/24000; set audio\.uplink_codec\/uplink_rate and audio\.downlink_codec\/downlink_rate/);
  });

  test("down keeps why while reconnecting; only a ready link ends it", () => {
    const { link, reported } = rig();
    link.ready(PCM16, PCM24);
    link.down("network", "connection reset", 500);
    assert.equal(link.usable, false);
    link.connecting();
    assert.equal(link.status.state, "down", "a retry does not hide why the link is down");
    assert.equal(link.status.message, "connection reset");
    assert.deepEqual(reported.at(-1), { kind: "link", state: "down", problem: "network", message: "connection reset", retryInMs: 500 });
    link.ready(PCM16, PCM24);
    assert.equal(link.status.state, "ready");
  });
});
