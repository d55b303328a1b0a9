/**
 * One meaning for a button, whatever carries it. GPIO, the serial panel, the terminal's
 * key and the control socket each report raw edges of one of the board's buttons; the
 * router gives each (button, source) a recogniser (hardware/buttons/button.ts: debounce,
 * long press, double press, stuck) and maps what it recognises to the device's actions,
 * one mapping for all: a double press switches modes, a triple press the agent profile, a
 * long press starts a new conversation, from whichever source. A triple press that does
 * something holds the double press's action back by double_press_ms: three presses are
 * one gesture, not a double and then a triple.
 *
 * Two rules keep a gesture from eating a question:
 * - in push-to-talk a long hold is a long question: the long-press action applies in free
 *   conversation only (where a press mutes or interrupts, and holding is a gesture);
 * - the control socket's down/up are taken as they come, never read as gestures (a script or
 *   a test presses again within 400 ms as a matter of course); a head unit that recognises
 *   a double or long press sends it as such (`gesture`).
 */
import { Button, type ButtonEdges, type ButtonEvent } from "../../hardware/buttons/button";
import type { Level } from "../../hardware/gpio/types";
import type { ButtonProfile } from "../../config/board-profile";
import type { Clock } from "../../core/clock";
import type { Logger } from "../../log/logger";

export type InputSource = "gpio" | "panel" | "keyboard" | "control";

/** What the buttons do to the device. */
export interface ButtonActions {
  press(userId?: string): void;
  release(): void;
  toggleMode(): void;
  /** `userId`: the button's own user (their conversation only); none: the device user's. */
  newConversation(userId?: string): void;
  /** Push-to-talk: holding the button is talking, so a long hold is a long question, not a gesture. */
  holdingIsTalking(): boolean;
  /** The next agent profile (after the last, the first). */
  nextAgent(): void;
  /** How many agent profiles there are (next-agent does nothing with one). */
  agentCount(): number;
}

type GestureAction = ButtonProfile["double_press_action"] | ButtonProfile["triple_press_action"];

export interface InputRouterOptions {
  buttons: readonly ButtonProfile[];
  actions: ButtonActions;
  log: Logger;
  clock: Clock;
  /** A press held longer is taken as released (conversation.max_turn_ms). */
  maxHoldMs: number;
}

/** Contacts bounce; a key in a terminal or a command on a socket does not (no debounce delay for them). */
const BOUNCES: Record<InputSource, boolean> = { gpio: true, panel: true, keyboard: false, control: false };
/** Whose edges are a person's hand, to be read for double and long presses. */
const GESTURES_FROM_EDGES: Record<InputSource, boolean> = { gpio: true, panel: true, keyboard: true, control: false };

export class InputRouter {
  private readonly attached: Button[] = [];
  private readonly byName = new Map<string, ButtonEdges>();
  /** Double presses whose action waits to see whether a third press comes. */
  private readonly heldDoubles = new Map<ButtonProfile, ReturnType<Clock["setTimeout"]>>();

  constructor(private readonly o: InputRouterOptions) {}

  /** The board's button names, for messages. */
  get names(): string[] {
    return [...new Set(this.o.buttons.map((b) => b.name))];
  }

  /** A recogniser for `b` fed by `source`; `initialLevel` 1 (held at start) is ignored until released. */
  attach(b: ButtonProfile, source: InputSource, initialLevel: Level = 0): ButtonEdges {
    const button = new Button(
      {
        name: b.name,
        ...(b.user_id ? { userId: b.user_id } : {}),
        clock: this.o.clock,
        debounceMs: BOUNCES[source] ? b.debounce_ms : 0,
        longPressMs: GESTURES_FROM_EDGES[source] ? b.long_press_ms : Infinity,
        doublePressMs: GESTURES_FROM_EDGES[source] ? b.double_press_ms : 0,
        triplePress: this.tripleActs(b),
        maxHoldMs: this.o.maxHoldMs,
        initialLevel,
      },
      (e) => this.onGesture(b, e),
    );
    this.attached.push(button);
    return button;
  }

  /**
   * A button by name from a source that names it (the control socket): the board's entry
   * for that source if it has one, else its first entry of that name; null if none.
   */
  named(name: string, source: InputSource): ButtonEdges | null {
    const key = `${source}\u0000${name}`;
    const known = this.byName.get(key);
    if (known) return known;
    const entry = this.entryFor(name, source);
    if (!entry) return null;
    const entries = this.o.buttons.filter((b) => b.name === name);
    // A button given a user on any of its entries speaks as that user from every source.
    const userId = entry.user_id ?? entries.find((b) => b.user_id)?.user_id;
    const input = this.attach(userId ? { ...entry, user_id: userId } : entry, source);
    this.byName.set(key, input);
    return input;
  }

  /**
   * A gesture the source recognised itself (a head unit's double or long press): the button's
   * action for it. Unambiguous, so a long press acts in push-to-talk too. False: no such button.
   */
  gesture(name: string, kind: "double" | "triple" | "long"): boolean {
    const b = this.entryFor(name, "control");
    if (!b) return false;
    const userId = b.user_id ?? this.o.buttons.find((e) => e.name === name && e.user_id)?.user_id;
    if (kind === "double") this.act(b.double_press_action, `double press on '${name}'`, userId);
    else if (kind === "triple") this.act(b.triple_press_action, `triple press on '${name}'`, userId);
    else this.act(b.long_press_action, `long press on '${name}'`, userId);
    return true;
  }

  close(): void {
    for (const b of this.attached) b.close();
    for (const t of this.heldDoubles.values()) this.o.clock.clearTimeout(t);
    this.heldDoubles.clear();
  }

  /** A triple press on `b` would do something (next-agent needs two profiles). */
  private tripleActs(b: ButtonProfile): boolean {
    const a = b.triple_press_action;
    return a !== "none" && (a !== "next-agent" || this.o.actions.agentCount() > 1);
  }

  /** The board's entry for a button named by a source: the one for that source if any, else the first. */
  private entryFor(name: string, source: InputSource): ButtonProfile | undefined {
    const entries = this.o.buttons.filter((b) => b.name === name);
    return entries.find((b) => b.driver === source) ?? entries[0];
  }

  private onGesture(b: ButtonProfile, e: ButtonEvent): void {
    const { actions, log } = this.o;
    switch (e.type) {
      case "down":
        actions.press(b.user_id);
        return;
      case "up":
        if (e.stuck) log.warn(`button '${b.name}' held for ${Math.round(e.heldMs / 1000)} s: taken as released (is it stuck?)`);
        actions.release();
        return;
      case "long":
        // A question may take longer than long_press_ms; it must not wipe the context it asks in.
        if (actions.holdingIsTalking()) return;
        return this.act(b.long_press_action, `long press on '${b.name}'`, b.user_id);
      case "double": {
        const what = `double press on '${b.name}'`;
        if (!this.tripleActs(b)) return this.act(b.double_press_action, what, b.user_id);
        this.o.clock.clearTimeout(this.heldDoubles.get(b));
        this.heldDoubles.set(
          b,
          this.o.clock.setTimeout(() => {
            this.heldDoubles.delete(b);
            this.act(b.double_press_action, what, b.user_id);
          }, b.double_press_ms),
        );
        return;
      }
      case "triple":
        this.o.clock.clearTimeout(this.heldDoubles.get(b));
        this.heldDoubles.delete(b);
        return this.act(b.triple_press_action, `triple press on '${b.name}'`, b.user_id);
    }
  }

  private act(action: GestureAction, what: string, userId: string | undefined): void {
    if (action === "new-conversation") {
      this.o.log.info(`${what}: starting a new conversation`);
      this.o.actions.newConversation(userId);
    } else if (action === "next-agent") {
      this.o.log.info(`${what}: switching to the next agent profile`);
      this.o.actions.nextAgent();
    } else if (action === "toggle-mode") {
      this.o.log.info(`${what}: switching between push-to-talk and free conversation`);
      this.o.actions.toggleMode();
    }
  }
}
