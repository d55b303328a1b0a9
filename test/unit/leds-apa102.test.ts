import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import {
  Apa102Strip,
  apa102EndFrameBytes,
  bitBangTransport,
  encodeApa102,
  openSpiTransport,
  spiDevicePath,
  type Apa102Pixel,
  type Apa102Transport,
} from "../../src/hardware/leds/apa102";
import type { OutputPin } from "../../src/hardware/leds/output";

const START = [0x00, 0x00, 0x00, 0x00];
const END4 = [0xff, 0xff, 0xff, 0xff];

describe("APA102 frame encoding", () => {
  test("1 LED: start frame, 0xE0|brightness, blue, green, red, 4-byte end frame", () => {
    const frame = encodeApa102([{ r: 0x11, g: 0x22, b: 0x33, brightness: 31 }]);
    assert.deepEqual([...frame], [...START, 0xff, 0x33, 0x22, 0x11, ...END4]);
  });

  test("3 LEDs: each in BGR order with its own brightness", () => {
    const frame = encodeApa102([
      { r: 255, g: 0, b: 0, brightness: 1 },
      { r: 0, g: 255, b: 0, brightness: 16 },
      { r: 1, g: 2, b: 3, brightness: 0 },
    ]);
    assert.deepEqual([...frame], [...START, 0xe1, 0, 0, 255, 0xf0, 0, 255, 0, 0xe0, 3, 2, 1, ...END4]);
  });

  test("12 LEDs (ReSpeaker 4-Mic ring)", () => {
    const pixels: Apa102Pixel[] = Array.from({ length: 12 }, (_, i) => ({ r: i, g: 0x40 + i, b: 0x80 + i, brightness: i }));
    const frame = encodeApa102(pixels);
    assert.equal(frame.length, 4 + 48 + 4);
    assert.deepEqual([...frame.subarray(0, 4)], START);
    assert.deepEqual(
      [...frame.subarray(4, 52)],
      [
        0xe0, 0x80, 0x40, 0x00, 0xe1, 0x81, 0x41, 0x01, 0xe2, 0x82, 0x42, 0x02, 0xe3, 0x83, 0x43, 0x03,
        0xe4, 0x84, 0x44, 0x04, 0xe5, 0x85, 0x45, 0x05, 0xe6, 0x86, 0x46, 0x06, 0xe7, 0x87, 0x47, 0x07,
        0xe8, 0x88, 0x48, 0x08, 0xe9, 0x89, 0x49, 0x09, 0xea, 0x8a, 0x4a, 0x0a, 0xeb, 0x8b, 0x4b, 0x0b,
      ],
    );
    assert.deepEqual([...frame.subarray(52)], END4);
  });

  test("the end frame has at least n/2 one-bits and never fewer than 32", () => {
    assert.deepEqual([0, 1, 3, 12, 64, 65, 100, 1000].map(apa102EndFrameBytes), [4, 4, 4, 4, 4, 5, 7, 63]);
    for (let n = 0; n <= 2000; n++) {
      const end = encodeApa102(Array.from({ length: n }, () => ({ r: 0, g: 0, b: 0, brightness: 0 }))).subarray(4 + 4 * n);
      assert.ok(end.length * 8 >= Math.max(32, n / 2), `n=${n}`);
      assert.ok(end.every((b) => b === 0xff), `n=${n}`);
    }
  });

  test("out-of-range and non-numeric values are clamped, not thrown", () => {
    const frame = encodeApa102([{ r: 300, g: -5, b: Number.NaN, brightness: 40 }, { r: 12.6, g: 0, b: 0, brightness: -1 }]);
    assert.deepEqual([...frame.subarray(4, 12)], [0xff, 0, 0, 255, 0xe0, 0, 0, 13]);
  });

  test("spidev path", () => {
    assert.equal(spiDevicePath(0, 1), "/dev/spidev0.1");
  });
});

describe("APA102 over SPI (a regular file stands in for /dev/spidev)", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-leds-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("each frame is written whole, in order, through one open fd", () => {
    const file = path.join(dir, "spidev0.0");
    fs.writeFileSync(file, "");
    const spi = openSpiTransport(file);
    const a = encodeApa102([{ r: 1, g: 2, b: 3, brightness: 4 }]);
    const b = encodeApa102([{ r: 9, g: 8, b: 7, brightness: 6 }, { r: 5, g: 4, b: 3, brightness: 2 }]);
    spi.write(a);
    // A new open would truncate or rewind; the second frame landing after the first shows the fd is kept.
    spi.write(b);
    spi.close();
    assert.deepEqual(fs.readFileSync(file), Buffer.concat([a, b]));
  });

  test("a frame larger than spidev's 4096-byte transfer limit arrives intact", () => {
    const file = path.join(dir, "spidev-long");
    fs.writeFileSync(file, "");
    const spi = openSpiTransport(file);
    const frame = encodeApa102(Array.from({ length: 1100 }, (_, i) => ({ r: i & 0xff, g: (i >> 8) & 0xff, b: 7, brightness: i % 32 })));
    assert.ok(frame.length > 4096);
    spi.write(frame);
    spi.close();
    assert.deepEqual(fs.readFileSync(file), frame);
  });

  test("writing after close fails with a message; closing twice is harmless", () => {
    const file = path.join(dir, "spidev-closed");
    fs.writeFileSync(file, "");
    const spi = openSpiTransport(file);
    spi.close();
    spi.close();
    assert.throws(() => spi.write(encodeApa102([])), /spidev-closed is closed/);
  });

  test("a missing node says SPI is not enabled and how to enable it", () => {
    const missing = path.join(dir, "spidev9.9");
    assert.throws(() => openSpiTransport(missing), (err: Error) => {
      assert.match(err.message, /spidev9\.9 does not exist: SPI not enabled/);
      assert.match(err.message, /dtparam=spi=on/);
      assert.match(err.message, /reboot/);
      return true;
    });
  });

  test("no permission: join the spi group (really opened by an unprivileged user)", () => {
    const file = path.join(dir, "spidev-locked");
    fs.writeFileSync(file, "");
    fs.chmodSync(file, 0o600);
    const apa102 = path.resolve(__dirname, "../../src/hardware/leds/apa102.js");
    const script = `try { require(${JSON.stringify(apa102)}).openSpiTransport(${JSON.stringify(file)}); console.log("opened"); } catch (e) { console.log(e.message); }`;
    let message: string;
    if (process.getuid?.() === 0) {
      // Root ignores file modes: open it as nobody instead.
      fs.chmodSync(dir, 0o755);
      const r = spawnSync(process.execPath, ["-e", script], { uid: 65534, gid: 65534, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      message = r.stdout;
    } else {
      fs.chmodSync(file, 0o000);
      message = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" }).stdout;
    }
    assert.match(message, /spidev-locked: permission denied/);
    assert.match(message, /add the talkbox user to the spi group/i);
    assert.match(message, /dtparam=spi=on in \/boot\/firmware\/config\.txt/);
  });
});

type Edge = { pin: "data" | "clock"; level: 0 | 1 };

function recordingPins(): { data: OutputPin; clock: OutputPin; log: Edge[] } {
  const log: Edge[] = [];
  return { data: { write: (level) => void log.push({ pin: "data", level }) }, clock: { write: (level) => void log.push({ pin: "clock", level }) }, log };
}

/** What an APA102 sees: the data level at each rising clock edge, packed MSB first. */
function sampledBytes(log: readonly Edge[]): Buffer {
  let data: 0 | 1 | undefined;
  let clock: 0 | 1 = 0;
  const bits: number[] = [];
  for (const e of log) {
    if (e.pin === "data") data = e.level;
    else {
      if (clock === 0 && e.level === 1) {
        assert.notEqual(data, undefined, "clocked before data was set");
        bits.push(data!);
      }
      clock = e.level;
    }
  }
  assert.equal(bits.length % 8, 0);
  const out = Buffer.alloc(bits.length / 8);
  bits.forEach((b, i) => {
    out[i >> 3]! |= b << (7 - (i & 7));
  });
  return out;
}

describe("APA102 bit-banged on two GPIO outputs", () => {
  test("the bits sampled on rising clock edges are the encoded frame, and the clock idles low", () => {
    const { data, clock, log } = recordingPins();
    const bb = bitBangTransport(data, clock);
    assert.deepEqual(log, [{ pin: "clock", level: 0 }], "clock driven low before the first frame");
    const pixels: Apa102Pixel[] = [
      { r: 0xa5, g: 0x3c, b: 0x0f, brightness: 17 },
      { r: 0, g: 255, b: 1, brightness: 31 },
      { r: 128, g: 64, b: 32, brightness: 2 },
    ];
    bb.write(encodeApa102(pixels));
    assert.deepEqual(sampledBytes(log), encodeApa102(pixels));
    assert.deepEqual(log.filter((e) => e.pin === "clock").at(-1), { pin: "clock", level: 0 });
  });

  test("the data line is written only when it changes", () => {
    const { data, clock, log } = recordingPins();
    const bb = bitBangTransport(data, clock);
    const frame = encodeApa102([{ r: 0, g: 0, b: 0, brightness: 0 }]);
    bb.write(frame);
    // 32 zeros, 0xE0 (1,1,1,0…), 24 zeros, 32 ones: data changes 4 times (first write included).
    assert.equal(log.filter((e) => e.pin === "data").length, 4);
    assert.equal(log.filter((e) => e.pin === "clock" && e.level === 1).length, frame.length * 8);
    bb.write(frame);
    assert.deepEqual(sampledBytes(log), Buffer.concat([frame, frame]));
  });
});

describe("APA102 strip", () => {
  function recordingTransport(): { t: Apa102Transport; frames: Buffer[]; events: string[] } {
    const frames: Buffer[] = [];
    const events: string[] = [];
    return {
      frames,
      events,
      t: {
        write: (f) => {
          frames.push(Buffer.from(f));
          events.push("frame");
        },
        close: () => void events.push("close"),
      },
    };
  }

  test("an active-low power pin goes low at open, the LEDs are cleared, and high again after the dark frame at close", () => {
    const { t, frames, events } = recordingTransport();
    const power: OutputPin = { write: (l) => void events.push(`power=${l}`) };
    const strip = new Apa102Strip(3, t, { pin: power, activeLow: true });
    const off = encodeApa102(Array.from({ length: 3 }, () => ({ r: 0, g: 0, b: 0, brightness: 0 })));
    assert.deepEqual(events, ["power=0", "frame"]);
    assert.deepEqual(frames[0], off);
    strip.show([{ r: 1, g: 2, b: 3, brightness: 4 }]);
    assert.deepEqual(frames[1], encodeApa102([{ r: 1, g: 2, b: 3, brightness: 4 }, { r: 0, g: 0, b: 0, brightness: 0 }, { r: 0, g: 0, b: 0, brightness: 0 }]));
    strip.close();
    assert.deepEqual(events, ["power=0", "frame", "frame", "frame", "power=1", "close"]);
    assert.deepEqual(frames[2], off);
    strip.show([{ r: 1, g: 2, b: 3, brightness: 4 }]);
    strip.close();
    assert.equal(frames.length, 3, "nothing written after close");
  });

  test("an active-high power pin (ReSpeaker 4-Mic GPIO5) goes high; extra pixels are dropped", () => {
    const { t, frames, events } = recordingTransport();
    const strip = new Apa102Strip(1, t, { pin: { write: (l) => void events.push(`power=${l}`) }, activeLow: false });
    strip.show([{ r: 1, g: 1, b: 1, brightness: 1 }, { r: 2, g: 2, b: 2, brightness: 2 }]);
    assert.equal(events[0], "power=1");
    assert.deepEqual(frames[1], encodeApa102([{ r: 1, g: 1, b: 1, brightness: 1 }]));
    strip.close();
    assert.equal(events.at(-2), "power=0");
  });

  test("close still switches the power off and closes the transport when the dark frame fails", () => {
    const events: string[] = [];
    let fail = false;
    const strip = new Apa102Strip(
      3,
      {
        write: () => {
          if (fail) throw new Error("EIO");
        },
        close: () => void events.push("close"),
      },
      { pin: { write: (l) => void events.push(`power=${l}`) }, activeLow: true },
    );
    fail = true;
    assert.throws(() => strip.close(), /EIO/);
    assert.deepEqual(events, ["power=0", "power=1", "close"]);
  });
});
