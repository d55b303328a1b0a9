/**
 * A whole device for integration tests: the emulator in this process, the ALSA
 * rig, and the compiled daemon as a child process on the sim board.
 */
import { once } from "node:events";
import path from "node:path";
import { startEmulator, type Emulator, type EmulatorOptions, type TurnRecord } from "../../src/emulator/server";
import { openControlConnection, type ControlConnection } from "../../src/control/client";
import { startRig, type Chunk, type Rig, type RigOptions } from "../rig/rig";
import { DaemonProcess } from "./daemon-process";
import { FaultProxy } from "./fault-proxy";
import { PATHS as VOICE_PATHS } from "../../src/agent/voiceapi/names";

export interface DeviceOptions {
  emulator?: EmulatorOptions;
  rig?: Partial<RigOptions>;
  /** Merged over the test config (shallow per top-level key). */
  config?: Record<string, Record<string, unknown>>;
  env?: NodeJS.ProcessEnv;
  /** The mic and speaker hardware: rate (default 16000), channels (1), format (S16_LE). */
  mic?: HardwareOptions;
  spk?: HardwareOptions;
  /** The device state to wait for before the test starts (default idle). */
  ready?: string;
  /** The board profile (default sim). */
  board?: string;
  /** The CLI to run (default the tsc build, dist/src/cli.js). */
  cli?: string;
  /** The agent backend (default coze, against the emulator's /v1/chat; realtime: its /v1/realtime). */
  realtime?: { flavour: "volcengine" | "openai" };
  /** The voice API backend (seed 002) against the emulator's endpoint of that version. */
  voiceapi?: { version: "v1" | "v2" } & Record<string, unknown>;
  /** Put a FaultProxy (a misbehaving server) between the daemon and the emulator. */
  proxy?: boolean;
}

export interface HardwareOptions {
  rate?: number;
  channels?: number;
  format?: "S16_LE" | "S32_LE";
}

export interface Device {
  rig: Rig;
  emulator: Emulator;
  /** Present when started with `proxy: true`. */
  proxy: FaultProxy | null;
  daemon: DaemonProcess;
  control: ControlConnection;
  socket: string;
  press(): Promise<Record<string, unknown>>;
  release(): Promise<Record<string, unknown>>;
  status(): Promise<Record<string, unknown>>;
  /** Resolves when the emulator has received `n` more appends. */
  appends(n: number): Promise<void>;
  nextTurn(): Promise<TurnRecord>;
  /** Stops the daemon; returns the exit code. The rig's speaker output then holds all it played. */
  stopDaemon(): Promise<number>;
  /**
   * Stops the daemon and starts it again with the same config, state directory, rig and emulator
   * (a restart or a reboot); `daemon` and `control` are then the new one's. `config` merges over
   * the first config per top-level key; `whileStopped` runs between the two (a power cut's damage).
   */
  restartDaemon(config?: Record<string, Record<string, unknown>>, whileStopped?: () => void): Promise<void>;
  stop(): Promise<number>;
}

export async function startDevice(o: DeviceOptions = {}): Promise<Device> {
  const rate = o.mic?.rate ?? 16000;
  const spkRate = o.spk?.rate ?? rate;
  const emulator = await startEmulator(o.emulator ?? {});
  const proxy = o.proxy ? await FaultProxy.start(emulator.url) : null;
  const emulatorUrl = o.realtime ? emulator.realtimeUrl : o.voiceapi ? `${emulator.base}${VOICE_PATHS[o.voiceapi.version]}` : emulator.url;
  const rig = await startRig({ micRate: rate, ...o.rig });
  const socket = path.join(rig.dir, "control.sock");
  const config: Record<string, Record<string, unknown> | string> = {
    board: o.board ?? "sim",
    agent: {
      url: proxy ? proxy.url(emulatorUrl) : emulatorUrl,
      ...(o.realtime
        ? { backend: "realtime", realtime: { flavour: o.realtime.flavour } }
        : o.voiceapi
          ? { backend: "voiceapi", voiceapi: o.voiceapi }
          : { coze: { bot_id: "7000000000000000001" } }),
      token: "test-token-1234",
      reconnect: { initial_ms: 100, max_ms: 1000 },
      ...o.config?.agent,
    },
    audio: {
      input: { device: rig.micDevice, sample_rate: rate, channels: o.mic?.channels ?? 1, format: o.mic?.format ?? "S16_LE" },
      output: { device: rig.spkDevice, sample_rate: spkRate, channels: o.spk?.channels ?? 1, format: o.spk?.format ?? "S16_LE" },
      // PCM at the hardware rates both ways, so a reply can be compared byte for byte.
      uplink_rate: rate,
      downlink_rate: spkRate,
      ...o.config?.audio,
    },
    control: { socket },
    // Nothing a test does may outlive it (the saved volume, conversation ids).
    state: { dir: path.join(rig.dir, "state"), ...o.config?.state },
    log: { level: "debug", format: "json", ...o.config?.log },
    ...(o.config?.conversation ? { conversation: o.config.conversation } : {}),
    ...(o.config?.earcons ? { earcons: o.config.earcons } : {}),
    ...(o.config?.board_overrides ? { board_overrides: o.config.board_overrides } : {}),
    ...(o.config?.analytics ? { analytics: o.config.analytics } : {}),
    ...(o.config?.agents ? { agents: o.config.agents } : {}),
    // Spoken alerts off unless a test asks: they would play into other tests' exact playback.
    announce: { alerts: { enabled: false }, ...o.config?.announce },
  };
  let daemon = DaemonProcess.run(rig.dir, config, { ...rig.env, ...o.env }, o.cli);
  try {
    await daemon.waitForState(o.ready ?? "idle");
  } catch (err) {
    await daemon.stop();
    await rig.close();
    await proxy?.close();
    await emulator.close();
    throw err;
  }
  let control = await openControlConnection(socket);
  const button = (Action: "down" | "up") => control.request({ Command: "Button", Name: "talk", Action });
  return {
    rig,
    emulator,
    proxy,
    get daemon() {
      return daemon;
    },
    get control() {
      return control;
    },
    socket,
    press: () => button("down"),
    release: () => button("up"),
    status: () => control.request({ Command: "Status" }),
    appends(n) {
      return new Promise((resolve) => {
        let seen = 0;
        const kind = o.realtime ? "realtime-client-event" : "client-event";
        const on = (_i: number, rec: { event: Record<string, unknown> | null }): void => {
          const type = rec.event?.[o.realtime ? "type" : "event_type"];
          if (type !== "input_audio_buffer.append" || ++seen < n) return;
          emulator.events.off(kind, on);
          resolve();
        };
        emulator.events.on(kind, on);
      });
    },
    async nextTurn() {
      const [turn] = (await once(emulator.events, "turn")) as [TurnRecord];
      return turn;
    },
    async stopDaemon() {
      await control.close();
      return daemon.stop();
    },
    async restartDaemon(over = {}, whileStopped) {
      await control.close();
      await daemon.stop();
      whileStopped?.();
      const next = { ...config };
      for (const [k, v] of Object.entries(over)) next[k] = { ...(config[k] as Record<string, unknown> | undefined), ...v };
      daemon = DaemonProcess.run(rig.dir, next, { ...rig.env, ...o.env }, o.cli);
      await daemon.waitForState(o.ready ?? "idle");
      control = await openControlConnection(socket);
    },
    async stop() {
      await control.close();
      const code = await daemon.stop();
      await proxy?.close();
      await emulator.close();
      await rig.close();
      return code;
    },
  };
}

/**
 * What the daemon played: the speaker streams that carried sound, joined, with their
 * chunks' offsets into the result. (The device probe, aplay, plays one period of
 * silence in a stream of its own.)
 */
export function daemonPlayback(rig: Rig): { bytes: Buffer; chunks: Chunk[] } {
  const streams = rig.speakerStreams().filter((s) => s.bytes.some((b) => b !== 0));
  const chunks: Chunk[] = [];
  let base = 0;
  for (const s of streams) {
    for (const [ns, off, len] of s.chunks) chunks.push([ns, base + off, len]);
    base += s.bytes.length;
  }
  return { bytes: Buffer.concat(streams.map((s) => s.bytes)), chunks };
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
