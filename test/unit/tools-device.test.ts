/**
 * Board tools: set_output drives the profile's GPIO outputs, get_device_status
 * reports the device, its network and the profile's inputs. The GPIO tests use
 * the real drivers against the fake libgpiod tools (test/fixtures/fake-gpiod.sh).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { boardProfileSchema, type BoardProfile } from "../../src/config/board-profile";
import type { GpioInput, GpioOutput, Level } from "../../src/hardware/gpio/types";
import { silentLogger } from "../../src/log/logger";
import { MemoryStateStore } from "../../src/state/store";
import { openDeviceTools } from "../../src/app/tools/builtins";
import { deviceStatus, ipv4Interfaces } from "../../src/app/tools/device-status";
import type { PinOpener } from "../../src/app/tools/pins";
import { ToolRunner } from "../../src/tools/runner";
import { Volume } from "../../src/app/tools/volume";

function board(extra: Record<string, unknown> = {}): BoardProfile {
  return boardProfileSchema.parse({
    name: "test-board",
    description: "A board for tests",
    audio: { capture: { device: "file:x.raw", sample_rate: 16000 }, playback: { device: "dir:x", sample_rate: 16000 } },
    ...extra,
  });
}

const OUTPUTS = [
  { name: "lamp", description: "the reading lamp", pin: 17 },
  { name: "fan", description: "the cabin fan", pin: 27, active_low: true, initial: true },
];
const INPUTS = [
  { name: "ignition", description: "ignition on", pin: 22 },
  { name: "on_battery", description: "running on battery", pin: 23, active_low: true },
];

/** GPIO lines that remember what was done to them (the thinnest stand-in for a driver). */
class FakePins implements PinOpener {
  readonly outputs = new Map<number, { activeLow: boolean; levels: Level[]; closed: boolean }>();
  readonly inputLevels = new Map<number, Level>();
  readonly closedInputs: number[] = [];
  failing = new Set<number>();

  async output(o: { pin: number; activeLow: boolean; initial: Level }): Promise<GpioOutput> {
    if (this.failing.has(o.pin)) throw new Error(`GPIO${o.pin} is claimed by a kernel driver`);
    const rec = { activeLow: o.activeLow, levels: [o.initial], closed: false };
    this.outputs.set(o.pin, rec);
    return { driver: "gpiod", description: `fake ${o.pin}`, write: (l) => void rec.levels.push(l), close: () => void (rec.closed = true) };
  }

  async input(o: { pin: number; activeLow: boolean }): Promise<GpioInput> {
    if (this.failing.has(o.pin)) throw new Error(`GPIO${o.pin} is claimed by a kernel driver`);
    return {
      driver: "gpiod",
      description: `fake ${o.pin}`,
      watch: () => undefined,
      read: () => this.inputLevels.get(o.pin) ?? 0,
      close: () => void this.closedInputs.push(o.pin),
    };
  }
}

/** `pins` undefined: the real GPIO drivers. */
async function setup(b: BoardProfile, pins: PinOpener | undefined, wifiSsid?: () => Promise<string | null>) {
  const volume = await Volume.open({
    config: { driver: "software", mixer_control: "PCM", initial_percent: 70 },
    store: new MemoryStateStore(),
    log: silentLogger(),
    playback: { setGain: () => undefined },
  });
  const device = { state: "thinking", mode: "push-to-talk", link: "ready" };
  const tools = await openDeviceTools({ board: b, volume, device: () => device, log: silentLogger(), ...(pins ? { pins } : {}), ...(wifiSsid ? { wifiSsid } : {}) });
  const runner = new ToolRunner(tools.tools, { log: silentLogger() });
  return { volume, tools, runner, device };
}

const json = (s: string): Record<string, unknown> => JSON.parse(s) as Record<string, unknown>;

describe("set_output", () => {
  test("declared only when the board has outputs, with their names as an enum", async () => {
    const plain = await setup(board(), new FakePins());
    assert.deepEqual(plain.runner.names, ["set_volume", "get_volume", "get_device_status"]);
    const { runner } = await setup(board({ outputs: OUTPUTS }), new FakePins());
    const spec = runner.specs().find((s) => s.name === "set_output")!;
    assert.deepEqual(spec.parameters, {
      type: "object",
      properties: {
        name: { type: "string", enum: ["lamp", "fan"], description: "Which output." },
        on: { type: "boolean", description: "true to switch it on, false to switch it off." },
      },
      required: ["name", "on"],
      additionalProperties: false,
    });
    assert.match(spec.description, /lamp \(the reading lamp\); fan \(the cabin fan\)/);
  });

  test("outputs start at their initial level and follow the agent's calls; close releases them", async () => {
    const pins = new FakePins();
    const { runner, tools } = await setup(board({ outputs: OUTPUTS }), pins);
    assert.deepEqual(pins.outputs.get(17), { activeLow: false, levels: [0], closed: false });
    assert.deepEqual(pins.outputs.get(27), { activeLow: true, levels: [1], closed: false });
    assert.deepEqual(json(await runner.run("set_output", '{"name":"lamp","on":true}')), { name: "lamp", on: true });
    assert.deepEqual(json(await runner.run("set_output", '{"name":"fan","on":false}')), { name: "fan", on: false });
    assert.deepEqual(pins.outputs.get(17)!.levels, [0, 1]);
    assert.deepEqual(pins.outputs.get(27)!.levels, [1, 0]);
    assert.deepEqual(tools.outputs.states(), { lamp: true, fan: false });
    tools.close();
    assert.ok(pins.outputs.get(17)!.closed && pins.outputs.get(27)!.closed);
    assert.deepEqual(pins.closedInputs, []);
  });

  test("bad arguments are answered with an error and switch nothing", async () => {
    const pins = new FakePins();
    const { runner } = await setup(board({ outputs: OUTPUTS }), pins);
    const e1 = json(await runner.run("set_output", '{"name":"heater","on":true}')).error;
    assert.match(String(e1), /name: Invalid option: expected one of "lamp"\|"fan"/);
    const e2 = json(await runner.run("set_output", '{"name":"lamp","on":"yes"}')).error;
    assert.match(String(e2), /on: Invalid input: expected boolean/);
    assert.deepEqual(pins.outputs.get(17)!.levels, [0]);
    assert.deepEqual(json(await runner.run("set_output", '{"name":"lamp","on":true}')), { name: "lamp", on: true }, "the next good call works");
  });

  test("an output whose line failed to open stays declared and says why", async () => {
    const pins = new FakePins();
    pins.failing.add(27);
    const { runner, tools } = await setup(board({ outputs: OUTPUTS }), pins);
    assert.ok(runner.specs().some((s) => s.name === "set_output"));
    const e = String(json(await runner.run("set_output", '{"name":"fan","on":true}')).error);
    assert.match(e, /output 'fan' is not available on this device: GPIO27 is claimed by a kernel driver/);
    assert.deepEqual(tools.outputs.states(), { lamp: false, fan: null });
  });
});

describe("set_output on the gpiod driver (fake libgpiod tools)", () => {
  const FAKE = path.resolve(__dirname, "../../../test/fixtures/fake-gpiod.sh");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-tools-gpio-"));
  const state = path.join(tmp, "state");
  const origPath = process.env.PATH;
  before(() => {
    const bin = path.join(tmp, "bin");
    fs.mkdirSync(bin);
    fs.mkdirSync(state);
    fs.copyFileSync(FAKE, path.join(bin, "fake-gpiod"));
    fs.chmodSync(path.join(bin, "fake-gpiod"), 0o755);
    for (const t of ["gpiodetect", "gpioget", "gpiomon", "gpioset"]) fs.symlinkSync("fake-gpiod", path.join(bin, t));
    fs.writeFileSync(path.join(state, "detect"), "gpiochip0 [pinctrl-rp1] (54 lines)\n");
    fs.writeFileSync(path.join(state, "level"), "1");
    process.env.PATH = `${bin}${path.delimiter}${origPath}`;
    process.env.FAKE_GPIOD_DIR = state;
    process.env.FAKE_GPIOD_VERSION = "2";
  });
  after(() => {
    process.env.PATH = origPath;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Resolves once line.<pin> holds `value`, re-checking whenever the fake tools write their state. */
  function held(pin: number, value: string, timeoutMs = 5000): Promise<void> {
    const file = path.join(state, `line.${pin}`);
    return new Promise((resolve, reject) => {
      const watcher = fs.watch(state);
      const check = (): void => {
        if (fs.existsSync(file) && fs.readFileSync(file, "utf8").trim() === value) {
          clearTimeout(timer);
          watcher.close();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        watcher.close();
        reject(new Error(`line ${pin} never held ${value}`));
      }, timeoutMs);
      watcher.on("change", check);
      check();
    });
  }

  test("the lamp relay's line is driven by set_output and released at shutdown; inputs read through gpioget", async () => {
    const { runner, tools } = await setup(board({ outputs: OUTPUTS, inputs: INPUTS }), undefined);
    try {
      await held(17, "0");
      await held(27, "0"); // fan: on at start, active-low
      assert.deepEqual(json(await runner.run("set_output", '{"name":"lamp","on":true}')), { name: "lamp", on: true });
      await held(17, "1");
      const status = json(await runner.run("get_device_status", "{}"));
      // The fake's lines all read 1: ignition (active-high) is on, on_battery (active-low) is off.
      assert.deepEqual(status.inputs, { ignition: true, on_battery: false });
      assert.deepEqual(status.outputs, { lamp: true, fan: true });
    } finally {
      tools.close();
    }
    await held(17, "released");
    await held(27, "released");
  });
});

describe("get_device_status", () => {
  test("board, conversation, uptime, network, volume, inputs and outputs", async () => {
    const pins = new FakePins();
    pins.inputLevels.set(22, 1);
    pins.failing.add(23);
    const { runner, device, volume } = await setup(board({ outputs: OUTPUTS, inputs: INPUTS }), pins, async () => "Garage");
    await volume.set(35);
    device.state = "speaking";
    const s = json(await runner.run("get_device_status", ""));
    assert.equal(s.board, "test-board");
    assert.equal(s.board_description, "A board for tests");
    assert.equal(s.state, "speaking", "the state is read when asked");
    assert.equal(s.mode, "push-to-talk");
    assert.equal(s.link, "ready");
    assert.ok(Math.abs(Date.parse(String(s.time)) - Date.now()) < 5000);
    const up = s.uptime_s as { talkbox: number; system: number };
    assert.ok(Number.isInteger(up.talkbox) && up.talkbox >= 0 && up.talkbox <= Math.ceil(process.uptime()));
    assert.ok(up.system >= up.talkbox);
    assert.deepEqual(s.network, { interfaces: ipv4Interfaces(), wifi_ssid: "Garage" });
    assert.equal(s.volume_percent, 35);
    assert.deepEqual(s.inputs, { ignition: true, on_battery: null });
    assert.deepEqual(s.outputs, { lamp: false, fan: true });
  });

  test("network lists non-loopback IPv4 addresses only", () => {
    const expected = Object.entries(os.networkInterfaces()).flatMap(([name, a]) =>
      (a ?? []).some((x) => x.family === "IPv4" && !x.internal) ? [name] : [],
    );
    const got = ipv4Interfaces();
    assert.deepEqual(got.map((i) => i.name), expected);
    for (const i of got) for (const a of i.ipv4) assert.match(a, /^\d+\.\d+\.\d+\.\d+$/);
    assert.ok(!got.some((i) => i.ipv4.includes("127.0.0.1")));
  });

  test("no Wi-Fi name (iwgetid missing or failing) and no inputs: those fields are left out", async () => {
    const s = await deviceStatus({
      board: { name: "b", description: "d" },
      device: () => ({ state: "idle", mode: "free", link: "down" }),
      volume: { percent: 10 },
      wifiSsid: () => Promise.reject(new Error("iwgetid: not found")),
    });
    assert.equal(s.network.wifi_ssid, undefined);
    assert.equal("inputs" in s, false);
    assert.equal("outputs" in s, false);
    assert.equal(s.link, "down");
  });
});
