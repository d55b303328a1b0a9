import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatDegrees, GpsReader, type GpsFix } from "../../src/hardware/serial/gps";
import { FakeClock } from "../support/fake-clock";
import { DeviceEnd, LogCapture, next, PtyPair } from "./serial-pty";

function sentence(body: string): string {
  let x = 0;
  for (const ch of body) x ^= ch.charCodeAt(0);
  return `$${body}*${x.toString(16).toUpperCase().padStart(2, "0")}\r\n`;
}

describe("GpsReader over a pty", () => {
  test("sentences in, a fresh fix out as extra_params strings; stale after maxAgeMs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "talkbox-gps-"));
    const clock = new FakeClock();
    const log = new LogCapture();
    const pty = await PtyPair.start(dir);
    const gps = new GpsReader({ path: pty.a, logger: log.logger, clock, maxAgeMs: 10_000 });
    const dev = await DeviceEnd.open(pty.b, 9600);
    try {
      const connected = next(gps, "connected");
      gps.start();
      await connected;
      assert.equal(gps.location(), null, "no fix yet");

      // What a receiver without a fix sends, then a bad checksum, then a fix.
      await dev.send(sentence("GNRMC,083558.00,V,,,,,,,091124,,,N,V"));
      await dev.send(sentence("GNGGA,083558.00,,,,,0,00,99.99,,,,,,"));
      await dev.send(sentence("GNGSV,1,1,01,05,20,120,30,1").replace(/\*..\r/, "*00\r"));
      await dev.send(sentence("GNRMC,083559.00,A,3958.804308,N,11618.352098,E,0.004,77.52,091124,,,A,V").replace(/\*..\r/, "*00\r"));
      const first = next<[GpsFix]>(gps, "fix");
      await dev.send(sentence("GNRMC,083559.00,A,3958.804308,N,11618.352098,E,0.004,77.52,091124,,,A,V"));
      const [fix] = await first;
      assert.equal(fix.sentence, "RMC");
      assert.deepEqual(gps.location(), { latitude: "39.9800718", longitude: "116.3058683" });
      assert.equal(log.warnings(/checksum 00 does not match/).length, 2);

      // Ten seconds later the same fix is still good; a moment after, it is stale.
      clock.advance(10_000);
      assert.deepEqual(gps.location(), { latitude: "39.9800718", longitude: "116.3058683" });
      clock.advance(1);
      assert.equal(gps.location(), null);
      assert.notEqual(gps.lastFix, null, "the last fix is kept, only not handed out");

      // A GGA in the southern/western hemispheres refreshes it.
      const second = next<[GpsFix]>(gps, "fix");
      await dev.send(sentence("GPGGA,083610.00,2254.4100,S,04312.6000,W,1,09,0.9,10.0,M,-5.0,M,,"));
      const [fix2] = await second;
      assert.equal(fix2.at, clock.now());
      assert.deepEqual(gps.location(), { latitude: "-22.9068333", longitude: "-43.2100000" });
    } finally {
      await gps.close();
      await dev.close();
      await pty.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("unplugged and plugged back: keeps reading", async () => {
    const dir = mkdtempSync(join(tmpdir(), "talkbox-gps-"));
    const log = new LogCapture();
    const pty = await PtyPair.start(dir);
    const gps = new GpsReader({ path: pty.a, logger: log.logger, backoff: { initialMs: 20, maxMs: 200 } });
    try {
      const connected = next(gps, "connected");
      gps.start();
      await connected;
      const gone = next<[string]>(gps, "disconnected");
      await pty.stop();
      assert.deepEqual(await gone, ["unplugged"]);
      await log.waitForWarning(/^GPS .*\/a unplugged; waiting for it$/);

      const again = next(gps, "connected");
      const pty2 = await PtyPair.start(dir);
      try {
        await again;
        const dev = await DeviceEnd.open(pty2.b, 9600);
        try {
          const fix = next<[GpsFix]>(gps, "fix");
          await dev.send(sentence("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"));
          await fix;
          assert.deepEqual(gps.location(), { latitude: "48.1173000", longitude: "11.5166667" });
        } finally {
          await dev.close();
        }
      } finally {
        await pty2.stop();
      }
    } finally {
      await gps.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("formatDegrees", () => {
  test("seven decimals, no negative zero", () => {
    assert.equal(formatDegrees(39.98007180000001), "39.9800718");
    assert.equal(formatDegrees(-0.00000001), "0.0000000");
    assert.equal(formatDegrees(-122.4194155), "-122.4194155");
  });
});
