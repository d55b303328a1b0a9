/**
 * Assembles the device from the config: audio drivers, the agent backend, the
 * conversation, the buttons and the control socket. Owns start-up and shutdown.
 */
import { ALERT_PHRASES, IDLE_PROMPTS, SLOW_REPLY_PHRASES, type AlertPhrases } from "../device/alerts";
import { loadEarcons } from "../device/earcons";
import { earconFiles } from "./earcon-files";
import { espeakVoice } from "../voice/espeak";
import { FileStateStore } from "../state/store";
import { continuePolicy, StoredConversationBook } from "../state/conversation-book";
import { AgentFactory } from "./agents/factory";
import { AgentSwitcher } from "./agents/switcher";
import { switchAgentTool } from "./agents/switch-agent-tool";
import { bookScope, profilesOf } from "./agents/profiles";
import { DeviceAnalytics } from "./analytics/device-analytics";
import type { CaptureSource } from "../audio/capture/source";
import { alsaPcm, playbackDriver } from "../audio/device-name";
import { openCapture } from "../audio/capture/open";
import { PlaybackEngine } from "../audio/playback/engine";
import { probeAlsa } from "../audio/probe";
import { probeSpeaker } from "../audio/playback/speaker-probe";
import type { PcmFormat } from "../core/pcm";
import { codecRules, FREE_FRAME_MS } from "../core/media";
import { Uplink } from "../device/uplink";
import { Downlink } from "../device/downlink";
import type { LoadedConfig } from "../config/load";
import type { Config } from "../config/schema";
import { sectionOf, type AgentConfig } from "../config/schema";
import { DEFAULT_PROFILE } from "../config/agent-profiles";
import type { AgentProfile } from "./agents/profiles";
import { startControlServer, type ControlServer } from "../control/server";
import { StateStream } from "../control/state-stream";
import type { DeviceActivity } from "../core/activity";
import { controlCommands, controlHandler } from "./commands";
import { realClock, type Clock } from "../core/clock";
import { DisposerStack } from "../core/disposers";
import { Conversation } from "../device/conversation";
import { capturePeriodsFor } from "../device/capture-periods";
import { LocalTurnDetector } from "../device/local-turns";
import { Volume } from "./tools/volume";
import { openDeviceTools } from "./tools/builtins";
import { ToolRunner } from "../tools/runner";
import { attachKeyboardButton } from "./inputs/keyboard";
import { attachHardware } from "./hardware";
import { openLocation } from "./location";
import { DeviceView } from "./device-view";
import { InputRouter } from "./inputs/router";
import { scrubber, type Logger } from "../log/logger";
import { scrubStrings } from "../config/secrets";

export interface Daemon {
  conversation: Conversation;
  /** Takes new credentials from a re-read config (SIGHUP, `systemctl reload talkbox`). */
  reload(next: LoadedConfig): void;
  stop(): Promise<void>;
}

export interface DaemonOptions {
  loaded: LoadedConfig;
  log: Logger;
  clock?: Clock;
  stdin?: NodeJS.ReadStream;
  /** Called when the user asks to quit from the keyboard. */
  onQuit?: () => void;
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const { loaded, log } = opts;
  const { config, board } = loaded;
  const clock = opts.clock ?? realClock;
  // Conversations saved before this moment are an earlier run's: conversation.continue decides.
  const startedAt = Date.now();
  const cleanups = new DisposerStack((err) => log.debug({ err: err.message }, "error during shutdown"));
  const stop = (): Promise<void> => cleanups.disposeAll();

  try {
    log.info({ board: board.name, config: loaded.file ?? "(defaults)" }, "talkbox starting");

    const a = config.audio;
    const micFormat: PcmFormat = { sampleRate: a.input.sample_rate, channels: a.input.channels, sampleFormat: a.input.format };
    const spkFormat: PcmFormat = { sampleRate: a.output.sample_rate, channels: a.output.channels, sampleFormat: a.output.format };
    const micDevice = await chooseDevice("capture", a.input.device, board.audio.capture.fallback, micFormat, log);
    const spkDevice = await choosePlaybackDriver(
      await chooseDevice("playback", a.output.device, board.audio.playback.fallback, spkFormat, log),
      spkFormat,
      log,
    );

    const uplinkFrameMs = codecRules(a.uplink_codec).frameMs ? a.opus_frame_ms : FREE_FRAME_MS;
    const uplink = await Uplink.create(micFormat, { codec: a.uplink_codec, sampleRate: a.uplink_rate, channels: 1 }, uplinkFrameMs, log);
    const downlink = await Downlink.create({ codec: a.downlink_codec, sampleRate: a.downlink_rate, channels: 1 }, spkFormat, log);
    const capturePeriods = capturePeriodsFor(a.capture_period_ms);
    const capture: CaptureSource = openCapture(micDevice, micFormat, log.child({ component: "mic" }), capturePeriods[config.conversation.mode]);
    const playback = await PlaybackEngine.start({
      device: spkDevice,
      format: spkFormat,
      log: log.child({ component: "speaker" }),
    });
    cleanups.push(() => playback.close());
    log.info(
      { mic: capture.description, micPeriodMs: capture.periodMs, speaker: playback.description, uplink: `${a.uplink_codec}/${a.uplink_rate}`, downlink: `${a.downlink_codec}/${a.downlink_rate}` },
      "audio ready",
    );

    const state = new FileStateStore(config.state.dir, log);
    // Disposed late (cleanups run last-in first-out): what the others saved as they stopped gets to the disk.
    cleanups.push(() => state.settled());
    const volume = await Volume.open({ config: a.volume, store: state, log: log.child({ component: "volume" }), playback });
    const view = new DeviceView(config.conversation.mode);
    const toolLog = log.child({ component: "tools" });
    const deviceTools = config.tools.enabled
      ? await openDeviceTools({ board, volume, log: toolLog, device: () => view.snapshot() })
      : null;
    if (deviceTools) cleanups.push(() => deviceTools.close());
    // The agent hands the user to another profile (switch_agent): the switcher exists once the backends do.
    let switcher: AgentSwitcher | undefined;
    const profiles = profilesOf(config);
    const switchTool =
      config.tools.enabled && profiles.length > 1
        ? [switchAgentTool({ profiles, active: () => switcher?.active.name ?? profiles[0]!.name, switchTo: (name) => void switcher?.switchTo(name, "the agent (switch_agent)") })]
        : [];
    // With tools off the runner is empty: a call still gets an answer (an error), so a chat never waits forever.
    const tools = new ToolRunner([...(deviceTools?.tools ?? []), ...switchTool], { log: toolLog });
    // Before the agent: its conversation books are tapped for the turns' conversation ids.
    const analytics = DeviceAnalytics.open(config, log);
    cleanups.push(() => analytics.close());
    const location = openLocation(board, log, clock);
    cleanups.push(() => location.close());
    const agents = await AgentFactory.open(config, {
      log,
      clock,
      extraParams: () => location.location(),
      tools: tools.specs(),
      conversations: (profile, scope) =>
        analytics.tap(
          profile,
          new StoredConversationBook({
            state,
            scope: bookScope(profile, scope),
            policy: continuePolicy(config.conversation.continue),
            startedAt,
            now: Date.now,
            log: log.child({ component: "conversations" }),
          }),
        ),
    });
    cleanups.push(() => agents.close());
    switcher = new AgentSwitcher({ factory: agents, state, log, clock, conversationEnded: (p, user) => analytics.endConversation(p, user) }, config.conversation.mode);
    const active = switcher;
    // The conversation's backend: the profile in use, whichever that is.
    const backend = active.backend;
    // A long drive: the agent hears where the car is now, not only where it was when the link opened.
    location.onMove((where) => backend.updateContext?.(where));
    // Free conversation needs someone to hear the end of a turn: the server, or the device (for any profile that does not).
    const localTurns = agents.profiles.every((p) => p.descriptor.capabilities(sectionOf(p.agent, p.descriptor.name)).serverVad)
      ? null
      : await LocalTurnDetector.create({
          sampleRate: a.uplink_rate,
          prefixPaddingMs: config.conversation.vad.prefix_padding_ms,
          silenceDurationMs: config.conversation.vad.silence_duration_ms,
        });
    if (localTurns) cleanups.push(() => localTurns.close());
    const conversation = new Conversation({
      backend,
      capture,
      uplink,
      downlink,
      playback,
      log,
      clock,
      mode: config.conversation.mode,
      userId: config.conversation.user_id,
      replyTimeoutMs: config.conversation.reply_timeout_ms,
      maxTurnMs: config.conversation.max_turn_ms,
      replyBufferMs: a.reply_buffer_ms,
      echo: a.echo,
      echoTailMs: a.echo_tail_ms,
      localTurns,
      tools,
      capturePeriods,
      announceVoice: config.announce.voice,
      alerts: alertPhrases(config.announce),
      idlePrompt:
        config.announce.idle_prompt_ms !== undefined ? { ms: config.announce.idle_prompt_ms, text: config.announce.idle_prompt ?? IDLE_PROMPTS[config.announce.language] } : null,
      slowReply:
        config.announce.slow_reply_ms !== undefined
          ? { ms: config.announce.slow_reply_ms, text: config.announce.slow_reply ?? SLOW_REPLY_PHRASES[config.announce.language] }
          : null,
      earcons: await loadEarcons(earconFiles(config.earcons), spkFormat, log),
      localVoice: espeakVoice({
        command: config.announce.local_voice.command,
        voice: config.announce.local_voice.voice,
        fallbackVoice: config.announce.local_voice.fallback_voice,
        speedWpm: config.announce.local_voice.speed_wpm,
        device: spkFormat,
      }),
    });
    active.attach(conversation);
    view.follow(conversation);
    analytics.follow(conversation, () => active.active.name);
    // At stop, before the store closes: the turn in progress is recorded as far as it got.
    cleanups.push(() => conversation.endTurn());
    // Every source of button edges goes through one router: the same gestures everywhere.
    const inputs = new InputRouter({
      buttons: board.buttons,
      actions: {
        press: (userId) => conversation.press(userId),
        release: () => conversation.release(),
        toggleMode: () => conversation.toggleMode(),
        newConversation: (userId) => conversation.newConversation(userId),
        nextAgent: () => void active.next("a triple press"),
        agentCount: () => agents.profiles.length,
        holdingIsTalking: () => conversation.machine.mode === "push-to-talk",
      },
      log,
      clock,
      maxHoldMs: config.conversation.max_turn_ms,
    });
    cleanups.push(() => inputs.close());

    const controlLog = log.child({ component: "control" });
    // A server's refusal can quote the token back; replies and stream frames get the logs' scrubbing too.
    // Built once (again at a reload that brings a new secret): it encodes every secret every way
    // it can appear, too much work for each reply.
    const secrets = [...loaded.secrets];
    let scrubSecrets = scrubber(secrets);
    const scrub = <T,>(value: T): T => scrubStrings(value, scrubSecrets);
    const stream = new StateStream({
      snapshot: () => ({ ...conversation.status(), Profile: active.active.name, Volume: volume.percent }),
      log: controlLog,
      scrub,
    });
    conversation.on("activity", (a: DeviceActivity) => stream.publish(a));
    active.onActivity((a) => stream.publish(a));
    volume.onChange((percent) => stream.publish({ kind: "volume", percent }));
    const run = controlHandler({ conversation, inputs, volume, playback, stream, analytics, agents: active });
    const control: ControlServer = await startControlServer({
      path: config.control.socket,
      log: controlLog,
      commands: controlCommands,
      handler: async (cmd) => scrub(await run(cmd)),
      stream,
    });
    cleanups.push(() => control.close());

    capture.start();
    cleanups.push(() => capture.stop());
    backend.start();
    cleanups.push(() => backend.stop());

    const hardware = await attachHardware({ board, conversation, log, clock, inputs, agents: active });
    cleanups.push(() => hardware.close());
    const keyboard = attachKeyboardButton({
      board,
      inputs,
      stdin: opts.stdin ?? process.stdin,
      mode: config.conversation.mode,
      log,
      quit: () => opts.onQuit?.(),
    });
    if (keyboard) cleanups.push(() => keyboard.close());

    const reload = (next: LoadedConfig): void => {
      // The old token stays masked too: a server may still quote it back.
      const added = next.secrets.filter((s) => !secrets.includes(s));
      if (added.length > 0) {
        secrets.push(...added);
        scrubSecrets = scrubber(secrets);
      }
      const changed = changedBeyondCredentials(loaded.config, next.config, agents.profiles);
      if (changed.length > 0) log.warn(`reload: ${changed.join(", ")} changed; those take effect at a restart (systemctl restart talkbox)`);
      if (!active.reload(next.config)) return;
      log.info(`reload: reconnecting to the agent (${active.active.name}) with the credentials now in the config`);
    };
    return { conversation, reload, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function chooseDevice(
  direction: "capture" | "playback",
  device: string,
  fallback: string | undefined,
  format: PcmFormat,
  log: Logger,
): Promise<string> {
  const pcm = alsaPcm(device, direction);
  if (!fallback || pcm === null) return device;
  const probe = await probeAlsa(direction, pcm, format);
  if (probe.ok) return device;
  const key = direction === "capture" ? "audio.input.device" : "audio.output.device";
  const tool = direction === "capture" ? "arecord -L" : "aplay -L";
  log.warn(
    `ALSA ${direction} device '${device}' is not usable (${probe.reason}); using the board's stand-in '${fallback}'. ` +
      `To use real audio, set ${key} to a working device (list them with '${tool}')`,
  );
  return fallback;
}

/**
 * The native `speaker` module plays an ALSA device unless it cannot: not built on this
 * machine, or failing to load or to open the device. That is asked of a child process first
 * (a native abort there cannot take the daemon down); on a no, aplay plays the device.
 */
async function choosePlaybackDriver(device: string, format: PcmFormat, log: Logger): Promise<string> {
  const { driver, target } = playbackDriver(device);
  if (driver !== "alsa") return device;
  const probe = await probeSpeaker(target, format);
  if (probe.ok) return device;
  log.warn(
    `the native 'speaker' module cannot play '${target}' (${probe.reason}); playing through aplay instead, ` +
      "which also flushes at once on barge-in. To use speaker: bash scripts/deps.sh (talkbox doctor says what is missing)",
  );
  return `aplay:${target}`;
}

/** Top-level config sections that differ, apart from the credentials a reload applies (each profile's token and credential keys). */
function changedBeyondCredentials(a: LoadedConfig["config"], b: LoadedConfig["config"], profiles: readonly AgentProfile[]): string[] {
  const stripAgent = (agent: AgentConfig | undefined, name: string): unknown => {
    const descriptor = profiles.find((p) => p.name === name)?.descriptor;
    if (!agent || !descriptor) return agent;
    const section = { ...(sectionOf(agent, descriptor.name) as Record<string, unknown>) };
    for (const key of descriptor.credentialKeys) delete section[key];
    return { ...agent, token: undefined, [descriptor.name]: section };
  };
  const strip = (c: LoadedConfig["config"]) => ({
    ...c,
    agent: stripAgent(c.agent, DEFAULT_PROFILE),
    agents: Object.fromEntries(Object.entries(c.agents).map(([n, p]) => [n, stripAgent(p, n)])),
  });
  const x = strip(a) as Record<string, unknown>;
  const y = strip(b) as Record<string, unknown>;
  return Object.keys({ ...x, ...y }).filter((k) => JSON.stringify(x[k]) !== JSON.stringify(y[k]));
}

/** The spoken alerts' phrases: the language's, each replaced by the config's own; null when off. */
function alertPhrases(a: Config["announce"]): AlertPhrases | null {
  if (!a.alerts.enabled) return null;
  const base = ALERT_PHRASES[a.language];
  return {
    offline: a.alerts.offline ?? base.offline,
    unreachable: a.alerts.unreachable ?? base.unreachable,
    auth: a.alerts.auth ?? base.auth,
    quota: a.alerts.quota ?? base.quota,
    not_found: a.alerts.not_found ?? base.not_found,
    bad_request: a.alerts.bad_request ?? base.bad_request,
  };
}
