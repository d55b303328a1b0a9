/**
 * A whole device for integration tests: the emulator in this process, the ALSA
 * rig, and the compiled daemon as a child process on the sim board.
 */
import { once } from "node:events";
import path from "node:path";
import { startEmulator, type Emulator, type EmulatorOptions, type TurnRecord } from "../../src/emulator/server";
import { openControlConnection, type ControlConnection } from "../../src/control/client";
import { startRig, type Rig, type RigOptions } from "../rig/rig";
import { DaemonProcess } from "./daemon-process";

export interface DeviceOptions {
  emulator?: EmulatorOptions;
  rig?: Partial<RigOptions>;
  /** Merged over the test config (shallow per top-level key). */
  config?: Record<string, Record<string, unknown>>;
  env?: NodeJS.ProcessEnv;
  rate?: number;
  /** The device state to wait for before the test starts (default idle). */
  ready?: string;
}

export interface Device {
  rig: Rig;
  emulator: Emulator;
  daemon: DaemonProcess;
  control: ControlConnection;
  socket: string;
  press(): Promise<Record<string, unknown>>;
  release(): Promise<Record<string, unknown>>;
  status(): Promise<Record<string, unknown>>;
  /** Resolves when the emulator has received `n` more appends. */
  appends(n: number): Promise<void>;
  nextTurn(): Promise<TurnRecord>;
  /** Stops the daemon and waits until the speaker has played all it was given; returns the exit code. */
  stopDaemon(): Promise<number>;
  stop(): Promise<number>;
}

export async function startDevice(o: DeviceOptions = {}): Promise<Device> {
  const rate = o.rate ?? 16000;
  const emulator = await startEmulator(o.emulator ?? {});
  const rig = await startRig({ micRate: rate, spkRate: rate, ...o.rig });
  const socket = path.join(rig.dir, "control.sock");
  const config: Record<string, Record<string, unknown> | string> = {
    board: "sim",
    agent: {
      url: emulator.url,
      bot_id: "7000000000000000001",
      token: "test-token-1234",
      reconnect: { initial_ms: 100, max_ms: 1000 },
      ...o.config?.agent,
    },
    audio: {
      input: { device: rig.micDevice, sample_rate: rate },
      output: { device: rig.spkDevice, sample_rate: rate },
      ...o.config?.audio,
    },
    control: { socket },
    log: { level: "debug", format: "json" },
    ...(o.config?.conversation ? { conversation: o.config.conversation } : {}),
  };
  const daemon = DaemonProcess.run(rig.dir, config, { ...rig.env, ...o.env });
  try {
    await daemon.waitForState(o.ready ?? "idle");
  } catch (err) {
    await daemon.stop();
    await rig.close();
    await emulator.close();
    throw err;
  }
  const control = await openControlConnection(socket);
  const button = (Action: "down" | "up") => control.request({ Command: "Button", Name: "talk", Action });
  return {
    rig,
    emulator,
    daemon,
    control,
    socket,
    press: () => button("down"),
    release: () => button("up"),
    status: () => control.request({ Command: "Status" }),
    appends(n) {
      return new Promise((resolve) => {
        let seen = 0;
        const on = (_i: number, rec: { event: { event_type: string } | null }): void => {
          if (rec.event?.event_type !== "input_audio_buffer.append" || ++seen < n) return;
          emulator.events.off("client-event", on);
          resolve();
        };
        emulator.events.on("client-event", on);
      });
    },
    async nextTurn() {
      const [turn] = (await once(emulator.events, "turn")) as [TurnRecord];
      return turn;
    },
    async stopDaemon() {
      await control.close();
      const played = rig.speakerClosed();
      const code = await daemon.stop();
      await played;
      return code;
    },
    async stop() {
      await control.close();
      const code = await daemon.stop();
      await emulator.close();
      await rig.close();
      return code;
    },
  };
}

/** Bytes of digital silence at the start (the rig's device probe plays some). */
export function leadingSilence(b: Buffer): number {
  let s = 0;
  while (s + 1 < b.length && b[s] === 0 && b[s + 1] === 0) s += 2;
  return s;
}

/** Leading and trailing digital silence removed (the device probe and closing the device add some). */
export function trimSilence(b: Buffer): Buffer {
  const s = leadingSilence(b);
  let e = b.length;
  while (e - 2 >= s && b[e - 1] === 0 && b[e - 2] === 0) e -= 2;
  return b.subarray(s, e);
}

/** Resolves with the receipt time of the next client event of this type. */
export function nextClientEvent(emulator: Emulator, eventType: string): Promise<bigint> {
  return new Promise((resolve) => {
    const on = (_i: number, rec: { event: { event_type: string } | null; atNs: bigint }): void => {
      if (rec.event?.event_type !== eventType) return;
      emulator.events.off("client-event", on);
      resolve(rec.atNs);
    };
    emulator.events.on("client-event", on);
  });
}
