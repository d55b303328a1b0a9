/**
 * A protocol from outside src/ plugs in with one registry line (test/backend/cli.ts) and its
 * emulator endpoint (test/backend/loopback.ts): the daemon, started on the rig with
 * `agent.backend: loopback` and `agent.url: emulator`, validates its config section, loads
 * the emulator with the loopback stand-in, and runs a push-to-talk turn through it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { daemonPlayback, startDevice } from "../support/device";
import { until } from "../support/daemon-process";

const CLI = path.resolve(__dirname, "../backend/cli.js");
const FRAME_BYTES = 640; // 20 ms at 16 kHz mono S16_LE

test("a backend registered from test/ runs a push-to-talk turn on the rig through its own emulator endpoint", { timeout: 60_000 }, async () => {
  const dev = await startDevice({ cli: CLI, config: { agent: { backend: "loopback", url: "emulator", loopback: { room: "kitchen" } } } });
  try {
    const emulatorLine = dev.daemon.logs.find((l) => l.msg === "using the built-in emulator (echo agent)");
    assert.match(String(emulatorLine?.url), /^ws:\/\/127\.0\.0\.1:\d+\/loopback$/, "the descriptor's endpoint makes the URL");
    assert.equal(dev.daemon.logs.find((l) => l.msg === "loopback: in the room")?.room, "kitchen", "agent.loopback reached the server");
    assert.equal(dev.emulator.sessions().length + dev.emulator.realtimeSessions().length, 0, "the test's own emulator is not used");

    const micBytes = (): number => dev.rig.micTimes().reduce((n, [, , len]) => n + len, 0);
    assert.equal((await dev.press()).State, "listening");
    const atPress = micBytes();
    await until(() => micBytes() - atPress >= 50 * FRAME_BYTES, "a second of mic audio after the press");
    const from = dev.daemon.logs.length;
    assert.equal((await dev.release()).State, "thinking");
    await dev.daemon.waitForState("speaking", 10_000, from);
    await dev.daemon.waitForState("idle", 10_000, from);

    const last = (await dev.status()).LastTurn as Record<string, unknown>;
    assert.equal(last.outcome, "completed");
    assert.equal(typeof last.bytesSent, "number");
    assert.ok((last.bytesSent as number) >= 40 * FRAME_BYTES, `only ${String(last.bytesSent)} bytes were sent`);
    assert.equal(await dev.stopDaemon(), 0);

    // The stand-in plays the turn back: the speaker got exactly what the mic captured in it.
    const played = daemonPlayback(dev.rig).bytes;
    assert.equal(played.length, last.bytesSent, "the reply is the turn's audio, all of it");
    const at = dev.rig.micInput.indexOf(played.subarray(0, FRAME_BYTES));
    assert.ok(at >= 0, "the reply's first frame is not in what the mic captured");
    assert.ok(dev.rig.micInput.subarray(at, at + played.length).equals(played), "the reply differs from the mic audio");
  } finally {
    await dev.stop().catch(() => {});
  }
});
