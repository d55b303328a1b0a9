import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Button, type ButtonEvent, type ButtonOptions } from "../../src/hardware/buttons/button";
import { watchButton } from "../../src/hardware/buttons/gpio-button";
import type { GpioInput, Level } from "../../src/hardware/gpio/types";
import { FakeClock } from "../support/fake-clock";

function rig(opts: Partial<ButtonOptions> = {}) {
  const clock = new FakeClock();
  const events: ButtonEvent[] = [];
  const button = new Button({ name: "talk", clock, ...opts }, (e) => events.push(e));
  /** Applies raw levels at times relative to now: [ms, level], ... */
  const wire = (...steps: Array<[number, Level]>): void => {
    const start = clock.now();
    for (const [at, level] of steps) {
      clock.advance(start + at - clock.now());
      button.edge(level);
    }
  };
  const types = (): string[] => events.map((e) => e.type);
  return { clock, events, button, wire, types };
}

describe("button: debounce", () => {
  test("a press bouncing for 20 ms is one down; a bouncing release is one up", () => {
    const { wire, types, events, clock } = rig();
    wire([0, 1], [3, 0], [7, 1], [12, 0], [20, 1]);
    clock.advance(500);
    wire([0, 0], [4, 1], [9, 0], [25, 1], [28, 0]);
    clock.advance(100);
    assert.deepEqual(types(), ["down", "up"]);
    assert.equal(events[0]!.atMs, 0, "down counts at the first edge, not after the bounce");
    assert.equal(events[1]!.atMs, 520);
  });

  test("the down is emitted at the edge itself, not after the debounce window", () => {
    const { button, types } = rig();
    button.edge(1);
    assert.deepEqual(types(), ["down"]);
  });

  test("a level that changes within the window and stays counts when the window ends", () => {
    const { wire, clock, events } = rig();
    wire([0, 1], [10, 0]);
    assert.deepEqual(events.map((e) => e.type), ["down"]);
    clock.advance(20);
    assert.deepEqual(
      events.map((e) => [e.type, e.atMs]),
      [["down", 0], ["up", 30]],
    );
  });

  test("a configurable window: 50 ms", () => {
    const { wire, clock, types } = rig({ debounceMs: 50 });
    wire([0, 1], [40, 0], [45, 1]);
    clock.advance(100);
    assert.deepEqual(types(), ["down"]);
    wire([0, 0], [35, 1], [49, 0]);
    clock.advance(100);
    assert.deepEqual(types(), ["down", "up"]);
  });
});

describe("button: push-to-talk, long, double, stuck", () => {
  test("press and release: down then up with the time held", () => {
    const { wire, events, button } = rig();
    wire([0, 1]);
    assert.equal(button.pressed, true);
    wire([1500, 0]);
    assert.equal(button.pressed, false);
    assert.deepEqual(events, [
      { button: "talk", type: "down", atMs: 0 },
      { button: "talk", type: "up", atMs: 1500, heldMs: 1500, stuck: false },
    ]);
  });

  test("long press fires once at 2000 ms while still held; the release still comes", () => {
    const { wire, clock, types, events } = rig();
    wire([0, 1]);
    clock.advance(1999);
    assert.deepEqual(types(), ["down"]);
    clock.advance(1);
    assert.deepEqual(types(), ["down", "long"]);
    assert.deepEqual(events[1], { button: "talk", type: "long", atMs: 2000, heldMs: 2000 });
    clock.advance(5000);
    wire([0, 0]);
    assert.deepEqual(types(), ["down", "long", "up"]);
    assert.equal((events[2] as { heldMs: number }).heldMs, 7000);
  });

  test("a press released before the long-press time is not long", () => {
    const { wire, clock, types } = rig({ longPressMs: 1000 });
    wire([0, 1], [999, 0]);
    clock.advance(5000);
    assert.deepEqual(types(), ["down", "up"]);
  });

  test("double press: the second down within 400 ms of the first adds a double after its down", () => {
    const { wire, types, events } = rig();
    wire([0, 1], [120, 0], [350, 1]);
    assert.deepEqual(types(), ["down", "up", "down", "double"]);
    assert.deepEqual(events[3], { button: "talk", type: "double", atMs: 350, intervalMs: 350 });
    wire([100, 0], [200, 1]);
    assert.deepEqual(types(), ["down", "up", "down", "double", "up", "down"], "a third press starts a new pair");
  });

  test("presses further apart than 400 ms, or after a long press, are not a double", () => {
    const a = rig();
    a.wire([0, 1], [100, 0], [401, 1]);
    assert.deepEqual(a.types(), ["down", "up", "down"]);
    const b = rig({ longPressMs: 200, doublePressMs: 400 });
    b.wire([0, 1], [250, 0], [300, 1]);
    assert.deepEqual(b.types(), ["down", "long", "up", "down"]);
  });

  test("stuck: held 60 s is taken as released, and the late physical release is ignored", () => {
    const { wire, clock, types, events, button } = rig();
    wire([0, 1]);
    clock.advance(59_999);
    assert.deepEqual(types(), ["down", "long"]);
    clock.advance(1);
    assert.deepEqual(events[2], { button: "talk", type: "up", atMs: 60_000, heldMs: 60_000, stuck: true });
    assert.equal(button.pressed, false);
    clock.advance(30_000);
    wire([0, 0], [10, 1], [20, 0]);
    clock.advance(1000);
    assert.deepEqual(types(), ["down", "long", "up"], "the physical release makes no event");
    wire([0, 1], [300, 0]);
    assert.deepEqual(types(), ["down", "long", "up", "down", "up"], "the next press works normally");
    clock.advance(100);
    assert.equal(clock.pending, 0, "no timer left behind");
  });

  test("a button already held when attached is ignored until released", () => {
    const { wire, clock, types } = rig({ initialLevel: 1 });
    clock.advance(70_000);
    wire([0, 0]);
    assert.deepEqual(types(), []);
    clock.advance(100);
    wire([0, 1], [100, 0]);
    assert.deepEqual(types(), ["down", "up"]);
  });

  test("two talk buttons carry their own name and userId", () => {
    const clock = new FakeClock();
    const events: ButtonEvent[] = [];
    const driver = new Button({ name: "driver", userId: "u-driver", clock }, (e) => events.push(e));
    const passenger = new Button({ name: "passenger", userId: "u-passenger", clock }, (e) => events.push(e));
    driver.edge(1);
    clock.advance(100);
    passenger.edge(1);
    clock.advance(100);
    driver.edge(0);
    passenger.edge(0);
    assert.deepEqual(
      events.map((e) => `${e.type}:${e.button}:${e.userId}`),
      ["down:driver:u-driver", "down:passenger:u-passenger", "up:driver:u-driver", "up:passenger:u-passenger"],
    );
  });

  test("close stops timers: no long or stuck after close", () => {
    const { button, clock, types } = rig();
    button.edge(1);
    button.close();
    clock.advance(120_000);
    button.edge(0);
    assert.deepEqual(types(), ["down"]);
    assert.equal(clock.pending, 0);
  });

  test("Infinity disables long press and stuck; a bad option is refused", () => {
    const { wire, clock, types } = rig({ longPressMs: Infinity, maxHoldMs: Infinity });
    wire([0, 1]);
    clock.advance(10 * 60_000);
    assert.deepEqual(types(), ["down"]);
    assert.equal(clock.pending, 0);
    assert.throws(() => rig({ debounceMs: -1 }), /debounceMs must be a number ≥ 0/);
    assert.throws(() => rig({ longPressMs: Number.NaN }), /longPressMs/);
    assert.throws(() => rig({ name: "" }), /needs a name/);
  });
});

describe("button on a GPIO input", () => {
  /** An in-memory GpioInput: the interface the drivers implement. */
  class WireInput implements GpioInput {
    readonly driver = "gpiod" as const;
    readonly description = "test wire";
    private cbs: Array<(l: Level, t: number) => void> = [];
    constructor(private level: Level) {}
    watch(cb: (l: Level, t: number) => void): void {
      this.cbs.push(cb);
    }
    read(): Level {
      return this.level;
    }
    close(): void {
      this.cbs = [];
    }
    drive(level: Level, atMs: number): void {
      this.level = level;
      for (const cb of this.cbs) cb(level, atMs);
    }
  }

  test("edges use the input's timestamps: a burst delivered late keeps its real spacing", () => {
    const clock = new FakeClock();
    const events: ButtonEvent[] = [];
    const input = new WireInput(0);
    watchButton(input, (initialLevel) => new Button({ name: "talk", clock, initialLevel }, (e) => events.push(e)));
    clock.advance(1000);
    // Press at 700 and release at 900, both delivered at 1000 (the daemon was busy).
    input.drive(1, 700);
    input.drive(0, 900);
    assert.deepEqual(
      events.map((e) => [e.type, e.atMs]),
      [["down", 700], ["up", 900]],
    );
    assert.equal((events[1] as { heldMs: number }).heldMs, 200);
  });

  test("a button held at attach time starts suppressed", () => {
    const clock = new FakeClock();
    const events: ButtonEvent[] = [];
    const input = new WireInput(1);
    watchButton(input, (initialLevel) => new Button({ name: "talk", clock, initialLevel }, (e) => events.push(e)));
    input.drive(0, clock.now());
    assert.deepEqual(events, []);
  });
});
