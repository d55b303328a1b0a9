/**
 * One input router for every source of button edges: a GPIO line, the serial panel and the
 * terminal's key give the same gestures (press, release, double, long, stuck) and the same
 * actions; the control socket gives press, release and stuck from its edges and the same
 * actions for the gestures a head unit names. GPIO is the one mocked part (an in-memory line
 * behind the GpioInput interface the drivers implement); the keyboard is the real
 * attachKeyboard on a stand-in terminal stream.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { InputRouter, type ButtonActions, type InputSource } from "../../src/app/inputs/router";
import { watchButton } from "../../src/hardware/buttons/gpio-button";
import type { ButtonEdges } from "../../src/hardware/buttons/button";
import type { GpioInput, Level } from "../../src/hardware/gpio/types";
import { attachKeyboard } from "../../src/input/keyboard";
import type { ButtonProfile } from "../../src/config/board-profile";
import { silentLogger } from "../../src/log/logger";
import { FakeClock } from "../support/fake-clock";

const timing = { debounce_ms: 30, long_press_ms: 2000, double_press_ms: 400, long_press_action: "new-conversation", double_press_action: "toggle-mode", triple_press_action: "next-agent" } as const;
const BUTTONS: ButtonProfile[] = [
  { name: "talk", driver: "gpio", pin: 17, active_low: true, pull: "up", ...timing },
  { name: "talk", driver: "serial", key: "talk", ...timing },
  { name: "talk", driver: "keyboard", key: " ", ...timing },
  { name: "talk", driver: "control", ...timing },
  { name: "passenger", driver: "control", user_id: "passenger", ...timing },
];

function rig(mode: "push-to-talk" | "free" = "push-to-talk", agents = 1) {
  const clock = new FakeClock();
  const actions: string[] = [];
  const a: ButtonActions = {
    press: (userId) => actions.push(userId ? `press:${userId}` : "press"),
    release: () => actions.push("release"),
    toggleMode: () => actions.push("toggle-mode"),
    newConversation: () => actions.push("new-conversation"),
    holdingIsTalking: () => mode === "push-to-talk",
    nextAgent: () => actions.push("next-agent"),
    agentCount: () => agents,
  };
  const router = new InputRouter({ buttons: BUTTONS, actions: a, log: silentLogger(), clock, maxHoldMs: 60_000 });
  return { clock, actions, router };
}

/** An in-memory GPIO line (the mock: no GPIO here). */
class Line implements GpioInput {
  readonly driver = "gpiod" as const;
  readonly description = "test line";
  private cb: ((l: Level, t: number) => void) | null = null;
  constructor(private level: Level = 0) {}
  watch(cb: (l: Level, t: number) => void): void {
    this.cb = cb;
  }
  read(): Level {
    return this.level;
  }
  close(): void {
    this.cb = null;
  }
  drive(level: Level, atMs: number): void {
    this.level = level;
    this.cb?.(level, atMs);
  }
}

/** A terminal stream as attachKeyboard sees one: a TTY in raw mode. */
function terminal(): PassThrough & { isTTY: boolean; setRawMode: (on: boolean) => void } {
  return Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => {} });
}

/** Each source's way in, as the daemon wires it; `edge(level)` at the clock's now. */
function sources(r: ReturnType<typeof rig>): Record<InputSource, (level: Level) => void> {
  const line = new Line(0);
  watchButton(line, (initialLevel) => r.router.attach(BUTTONS[0]!, "gpio", initialLevel));
  const panel: ButtonEdges = r.router.attach(BUTTONS[1]!, "panel");
  const key = r.router.attach(BUTTONS[2]!, "keyboard");
  // A flowing PassThrough emits what is written synchronously: the key arrives at the clock's now.
  const tty = terminal();
  // Push-to-talk on a terminal: one key press holds, the next releases.
  attachKeyboard(tty as unknown as NodeJS.ReadStream, " ", { down: () => key.edge(1), up: () => key.edge(0), quit: () => {} }, true);
  let keyHeld = 0;
  return {
    gpio: (level) => line.drive(level, r.clock.now()),
    panel: (level) => panel.edge(level),
    keyboard: (level) => {
      if (level === keyHeld) return;
      keyHeld = level;
      tty.write(" ");
    },
    control: (level) => r.router.named("talk", "control")!.edge(level),
  };
}

const ALL: InputSource[] = ["gpio", "panel", "keyboard", "control"];
/** The sources whose edges are a hand on a button, read for gestures. */
const HANDS: InputSource[] = ["gpio", "panel", "keyboard"];

/** Steps of [ms after the previous step, level]. */
function drive(r: ReturnType<typeof rig>, edge: (l: Level) => void, ...steps: Array<[number, Level]>): void {
  for (const [after, level] of steps) {
    r.clock.advance(after);
    edge(level);
  }
}

describe("input router: the same gestures from every source", () => {
  for (const source of HANDS) {
    test(`${source}: press and release; a double press switches modes`, () => {
      const r = rig();
      const edge = sources(r)[source];
      drive(r, edge, [0, 1], [1500, 0]);
      drive(r, edge, [2000, 1], [100, 0], [150, 1], [100, 0]);
      r.clock.advance(1000);
      assert.deepEqual(r.actions, ["press", "release", "press", "release", "press", "toggle-mode", "release"]);
    });

    test(`${source}: with two agent profiles, a triple press switches agents and a double press still switches modes, once it is not the start of a triple`, () => {
      const r = rig("push-to-talk", 2);
      const edge = sources(r)[source];
      // Three quick presses: one gesture, the double's action never runs.
      drive(r, edge, [0, 1], [80, 0], [100, 1], [80, 0], [100, 1], [80, 0]);
      r.clock.advance(1000);
      assert.deepEqual(r.actions.filter((a) => a !== "press" && a !== "release"), ["next-agent"]);
      // Two quick presses: the mode switches once no third press came within double_press_ms.
      r.actions.length = 0;
      drive(r, edge, [0, 1], [80, 0], [100, 1], [80, 0]);
      assert.deepEqual(r.actions.filter((a) => a !== "press" && a !== "release"), []);
      r.clock.advance(400);
      assert.deepEqual(r.actions.filter((a) => a !== "press" && a !== "release"), ["toggle-mode"]);
      // A fourth quick press starts anew: no second triple, no extra double.
      r.actions.length = 0;
      r.clock.advance(1000);
      drive(r, edge, [0, 1], [50, 0], [50, 1], [50, 0], [50, 1], [50, 0], [50, 1], [50, 0]);
      r.clock.advance(1000);
      assert.deepEqual(r.actions.filter((a) => a !== "press" && a !== "release"), ["next-agent"]);
    });

    test(`${source}: a long press starts a new conversation in free conversation, and is a long question in push-to-talk`, () => {
      for (const mode of ["free", "push-to-talk"] as const) {
        const r = rig(mode);
        const edge = sources(r)[source];
        drive(r, edge, [0, 1], [2500, 0]);
        assert.deepEqual(r.actions, mode === "free" ? ["press", "new-conversation", "release"] : ["press", "release"], mode);
      }
    });
  }

  test("control: quick presses are turns, never gestures; a named double or long press runs the button's action", () => {
    const r = rig("free");
    const edge = sources(r).control;
    // Two turns 250 ms apart and a 2.5 s hold: what a script or a test does.
    drive(r, edge, [0, 1], [100, 0], [150, 1], [100, 0], [100, 1], [2500, 0]);
    assert.deepEqual(r.actions, ["press", "release", "press", "release", "press", "release"]);
    assert.equal(r.router.gesture("talk", "double"), true);
    assert.equal(r.router.gesture("talk", "long"), true);
    assert.equal(r.router.gesture("nobody", "long"), false);
    assert.deepEqual(r.actions.slice(6), ["toggle-mode", "new-conversation"]);
    // Named, a long press is unambiguous: it acts in push-to-talk too.
    const ptt = rig("push-to-talk");
    ptt.router.gesture("talk", "long");
    assert.deepEqual(ptt.actions, ["new-conversation"]);
  });

  for (const source of ALL) {
    test(`${source}: a press held past the limit is taken as released, the real release then ignored`, () => {
      const r = rig();
      const edge = sources(r)[source];
      drive(r, edge, [0, 1]);
      r.clock.advance(60_000);
      assert.deepEqual(r.actions, ["press", "release"]);
      drive(r, edge, [5000, 0]);
      assert.deepEqual(r.actions, ["press", "release"]);
    });
  }

  test("contacts bounce, software does not: GPIO and panel edges are debounced, keyboard and control ones are not", () => {
    for (const source of ALL) {
      const r = rig();
      const edge = sources(r)[source];
      if (source === "keyboard") continue; // a terminal reports key presses only: nothing can bounce
      // Released 10 ms after the press: a bounce on a contact, a real (if short) release from software.
      drive(r, edge, [0, 1], [10, 0]);
      const atOnce = [...r.actions];
      r.clock.advance(100);
      assert.deepEqual(atOnce, source === "gpio" || source === "panel" ? ["press"] : ["press", "release"], source);
      assert.deepEqual(r.actions, ["press", "release"], source);
    }
  });

  test("a GPIO button held when the daemon starts is ignored until it is released", () => {
    const r = rig();
    const line = new Line(1);
    watchButton(line, (initialLevel) => r.router.attach(BUTTONS[0]!, "gpio", initialLevel));
    line.drive(0, r.clock.now());
    r.clock.advance(100);
    line.drive(1, r.clock.now());
    assert.deepEqual(r.actions, ["press"]);
  });

  test("the control socket names a button: its own entry, the button's user, one recogniser per name", () => {
    const r = rig();
    const passenger = r.router.named("passenger", "control")!;
    passenger.edge(1);
    assert.equal(r.router.named("passenger", "control"), passenger);
    assert.equal(r.router.named("nobody", "control"), null);
    assert.deepEqual(r.router.names, ["talk", "passenger"]);
    assert.deepEqual(r.actions, ["press:passenger"]);
  });

  test("close stops every recogniser's timers: no long press after shutdown", () => {
    const r = rig("free");
    const edge = sources(r).gpio;
    drive(r, edge, [0, 1]);
    r.router.close();
    r.clock.advance(5000);
    assert.deepEqual(r.actions, ["press"]);
  });
});
