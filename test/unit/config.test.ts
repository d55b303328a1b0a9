import { configError as expectConfigError } from "../support/config-error";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { ConfigError } from "../../src/config/errors.js";
import { defaultBoardsDir, loadConfig, maskSecrets } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";

/** Appears in configs under test; no error message may ever contain it. */
const CANARY = "tok-CANARY-5f3e9a1c";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-config-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

let dirCount = 0;
function freshDir(): string {
  const dir = path.join(root, `case-${dirCount++}`);
  fs.mkdirSync(dir);
  return dir;
}

/** Writes talkbox.yaml (objects as YAML, strings as-is) into a fresh dir. */
const configError = (fn: () => unknown) => expectConfigError(fn, CANARY);

function writeConfig(body: unknown): { dir: string; file: string } {
  const dir = freshDir();
  const file = path.join(dir, "talkbox.yaml");
  fs.writeFileSync(file, typeof body === "string" ? body : stringify(body));
  return { dir, file };
}

/** A minimal valid config for a real agent, with a patch applied. */
function base(patch: (c: any) => void = () => {}): unknown {
  const c = { agent: { bot_id: "7350000000000000001", token: CANARY } };
  patch(c);
  return c;
}


/** The one issue about `key`, asserting it exists. */
function issueFor(err: ConfigError, key: string): string {
  const issue = err.issues.find((i) => i.startsWith(`${key}: `));
  assert.ok(issue, `no issue for ${key} in: ${err.message}`);
  return issue;
}

const load = (file: string, env: NodeJS.ProcessEnv = {}) => loadConfig({ path: file, env, cwd: path.dirname(file) });

const systemConfigExists = fs.existsSync("/etc/talkbox/talkbox.yaml");

describe("loadConfig: valid files", () => {
  test("a file with every key is taken as written", () => {
    const full: Config = {
      board: "sim",
      agent: {
        backend: "coze",
        url: "wss://ws.coze.com/v1/chat",
        token: CANARY,
        coze: {
          bot_id: "7350000000000000001",
          device_id: "7351234567890123456",
          voice_id: "7426720361733046281",
          speech_rate: -20,
        },
        realtime: {
          flavour: "openai",
          instructions: "Answer briefly.",
          voice: "alloy",
          temperature: 0.7,
          transcription: true,
          transcription_model: "whisper-1",
          custom_model: "doubao-pro-32k-functioncall",
          coze_bot_id: "7350000000000000002",
          keepalive_ms: 90000,
        },
        voiceapi: {
          host: "voice.example.com",
          version: "v1",
          user_id: "driver",
          context: { name: "Ana" },
          stt_rate: 8000,
          tts_rate: 22050,
          overrides: { tts: { voice: "es-ES-1" } },
          trigger_bot_first: true,
          end_silence_ms: 600,
          reply_end_ms: 1200,
        },
        connect_timeout_ms: 5000,
        ping_interval_ms: 20000,
        ping_timeout_ms: 8000,
        reply_ping_interval_ms: 2000,
        reply_ping_timeout_ms: 4000,
        reconnect: { initial_ms: 250, max_ms: 60000, auth_failure_ms: 600000 },
      },
      agents: {},
      conversation: {
        mode: "free",
        user_id: "kitchen",
        conversation_id: "conv-1",
        continue: "2h",
        reply_timeout_ms: 30000,
        max_turn_ms: 90000,
        vad: { prefix_padding_ms: 300, silence_duration_ms: 800 },
      },
      audio: {
        input: { device: "plughw:CARD=Mic", sample_rate: 48000, channels: 2, format: "S32_LE" },
        output: { device: "plughw:CARD=Speaker", sample_rate: 24000, channels: 1, format: "S16_LE" },
        uplink_codec: "opus",
        uplink_rate: 16000,
        downlink_codec: "opus",
        downlink_rate: 24000,
        opus_frame_ms: 40,
        echo: "none",
        echo_tail_ms: 200,
        reply_buffer_ms: 30000,
        volume: { driver: "alsa-mixer", mixer_control: "Speaker", mixer_card: "wm8960soundcard", initial_percent: 60 },
      },
      announce: { voice: "local", language: "zh", slow_reply_ms: 2500, slow_reply: "稍等", alerts: { enabled: false, offline: "离线", unreachable: "", auth: "token!", quota: "quota!" }, local_voice: { command: "/usr/local/bin/espeak-ng", voice: "en-gb", fallback_voice: "en-us", speed_wpm: 140 } },
      earcons: { listen_start: "builtin", listen_stop: "/usr/share/sounds/stop.wav", error: "off" },
      control: { socket: "/tmp/talkbox-test.sock" },
      state: { dir: "/tmp/talkbox-test-state" },
      analytics: { enabled: false, keep_days: 7, max_turns: 500, prometheus_file: "/tmp/talkbox-test.prom" },
      tools: { enabled: false },
      log: { level: "debug", format: "json" },
    };
    const { file } = writeConfig(full);
    const loaded = load(file);
    assert.deepEqual(loaded.config, full);
    assert.equal(loaded.file, file);
    assert.equal(loaded.board.name, "sim");
    assert.deepEqual(loaded.secrets, [CANARY]);
  });

  test("omitted keys get their defaults, audio from the board", () => {
    const { file } = writeConfig(base());
    const { config } = load(file);
    assert.deepEqual(config, {
      board: "sim",
      agent: {
        backend: "coze",
        url: "wss://ws.coze.cn/v1/chat",
        token: CANARY,
        coze: { bot_id: "7350000000000000001", speech_rate: 0 },
        realtime: { flavour: "volcengine", transcription: false, transcription_model: "whisper-1", keepalive_ms: 100000 },
        voiceapi: { version: "v2", stt_rate: 16000, tts_rate: 16000, trigger_bot_first: false, end_silence_ms: 800, reply_end_ms: 1500 },
        connect_timeout_ms: 10000,
        ping_interval_ms: 15000,
        ping_timeout_ms: 10000,
        reply_ping_interval_ms: 1500,
        reply_ping_timeout_ms: 2500,
        reconnect: { initial_ms: 500, max_ms: 30000, auth_failure_ms: 300000 },
      },
      agents: {},
      conversation: {
        mode: "push-to-talk",
        user_id: "talkbox",
        continue: "30m",
        reply_timeout_ms: 20000,
        max_turn_ms: 60000,
        vad: { prefix_padding_ms: 600, silence_duration_ms: 500 },
      },
      audio: {
        input: { device: "default", sample_rate: 16000, channels: 1, format: "S16_LE" },
        output: { device: "default", sample_rate: 16000, channels: 1, format: "S16_LE" },
        uplink_codec: "pcm",
        uplink_rate: 16000,
        downlink_codec: "pcm",
        downlink_rate: 24000,
        opus_frame_ms: 20,
        echo: "gate",
        echo_tail_ms: 300,
        reply_buffer_ms: 60000,
        volume: { driver: "software", mixer_control: "PCM", initial_percent: 100 },
      },
      announce: { voice: "agent", language: "en", alerts: { enabled: true }, local_voice: { command: "espeak-ng", voice: "auto", fallback_voice: "en-us", speed_wpm: 160 } },
      earcons: { listen_start: "off", listen_stop: "off", error: "off" },
      control: { socket: "/run/talkbox/control.sock" },
      state: { dir: process.env.STATE_DIRECTORY ?? "/var/lib/talkbox" },
      analytics: { enabled: true, keep_days: 90, max_turns: 100_000 },
      tools: { enabled: true },
      log: { level: "info", format: "auto" },
    });
  });

  test("the realtime backend defaults its URL and wire rates to the flavour, and needs no bot_id", () => {
    const gw = load(writeConfig({ agent: { backend: "realtime", token: CANARY } }).file).config;
    assert.equal(gw.agent.url, "wss://ai-gateway.vei.volces.com/v1/realtime?model=AG-voice-chat-agent");
    assert.deepEqual([gw.audio.uplink_rate, gw.audio.downlink_rate], [16000, 16000]);
    const oa = load(writeConfig({ agent: { backend: "realtime", flavour: "openai", token: CANARY }, audio: { downlink_codec: "g711u" } }).file).config;
    assert.match(oa.agent.url, /^wss:\/\/api\.openai\.com\/v1\/realtime/);
    assert.deepEqual([oa.audio.uplink_rate, oa.audio.downlink_rate], [24000, 8000]);
  });

  test("each backend's keys live in its section; the flat keys of older files still work, with one warning per section", () => {
    const nested = load(writeConfig({ agent: { token: CANARY, coze: { bot_id: "7", speech_rate: 20 }, realtime: { flavour: "openai", voice: "alloy" } } }).file);
    const deprecations = (w: string[]) => w.filter((line) => line.startsWith("deprecated:"));
    assert.deepEqual(deprecations(nested.warnings), []);
    const flat = load(writeConfig({ agent: { token: CANARY, bot_id: "7", speech_rate: 20, flavour: "openai", voice: "alloy" } }).file);
    assert.deepEqual(flat.config, nested.config);
    assert.deepEqual(deprecations(flat.warnings), [
      "deprecated: agent.bot_id is now agent.coze.bot_id, agent.speech_rate is now agent.coze.speech_rate (the old names still work; move them into agent.coze: when you next edit the file)",
      "deprecated: agent.flavour is now agent.realtime.flavour, agent.voice is now agent.realtime.voice (the old names still work; move them into agent.realtime: when you next edit the file)",
    ]);
    // A realtime file that still names a Coze bot keeps loading, as before.
    const rt = load(writeConfig({ agent: { backend: "realtime", token: CANARY, bot_id: "7" } }).file).config;
    assert.equal(rt.agent.realtime.flavour, "volcengine");
  });

  test("a key both flat and in its section is refused, naming both", () => {
    const err = configError(() => load(writeConfig({ agent: { token: CANARY, bot_id: "7", coze: { bot_id: "8" } } }).file));
    assert.match(issueFor(err, "agent.bot_id"), /also set as agent\.coze\.bot_id; keep only agent\.coze\.bot_id/);
  });

  test("the board's codecs are the defaults on Coze, and pcm on Realtime; the config wins", () => {
    const coze = load(writeConfig({ board: "respeaker-2mic", agent: { bot_id: "1", token: CANARY } }).file).config;
    assert.deepEqual([coze.audio.uplink_codec, coze.audio.downlink_codec], ["opus", "opus"]);
    const rt = load(writeConfig({ board: "respeaker-2mic", agent: { backend: "realtime", token: CANARY } }).file).config;
    assert.deepEqual([rt.audio.uplink_codec, rt.audio.downlink_codec], ["pcm", "pcm"]);
    const own = load(writeConfig({ board: "respeaker-2mic", agent: { bot_id: "1", token: CANARY }, audio: { uplink_codec: "g711a" } }).file).config;
    assert.deepEqual([own.audio.uplink_codec, own.audio.uplink_rate, own.audio.downlink_codec], ["g711a", 8000, "opus"]);
  });

  test("an empty file is valid for the emulator", () => {
    const { file } = writeConfig("# nothing yet\n");
    const { config, secrets } = load(file, { TALKBOX_AGENT_URL: "emulator" });
    assert.equal(config.agent.url, "emulator");
    assert.equal(config.agent.coze.bot_id, "emulator-bot");
    assert.equal(config.agent.token, undefined);
    assert.deepEqual(secrets, []);
  });

  test("./talkbox.yaml in cwd is found without a path", () => {
    const { dir, file } = writeConfig(base((c) => (c.conversation = { user_id: "found-me" })));
    const loaded = loadConfig({ cwd: dir, env: {} });
    assert.equal(loaded.file, file);
    assert.equal(loaded.config.conversation.user_id, "found-me");
  });

  test(
    "with no file anywhere, defaults + environment are used",
    { skip: systemConfigExists && "/etc/talkbox/talkbox.yaml exists on this machine" },
    () => {
      const loaded = loadConfig({ cwd: freshDir(), env: { TALKBOX_AGENT_URL: "emulator" } });
      assert.equal(loaded.file, null);
      assert.equal(loaded.config.agent.coze.bot_id, "emulator-bot");
    },
  );

  test(
    "with no file and no emulator, the error names the searched files and how to start",
    { skip: systemConfigExists && "/etc/talkbox/talkbox.yaml exists on this machine" },
    () => {
      const dir = freshDir();
      const err = configError(() => loadConfig({ cwd: dir, env: {} }));
      assert.ok(err.message.includes(path.join(dir, "talkbox.yaml")), err.message);
      assert.ok(err.message.includes("/etc/talkbox/talkbox.yaml"), err.message);
      assert.match(issueFor(err, "agent.token"), /TALKBOX_TOKEN/);
      assert.match(err.message, /TALKBOX_AGENT_URL=emulator/);
    },
  );
});

describe("loadConfig: environment", () => {
  test("each variable overrides its key", () => {
    const boards = path.join(freshDir(), "boards");
    fs.mkdirSync(boards);
    fs.copyFileSync(path.join(defaultBoardsDir(), "sim.yaml"), path.join(boards, "sim.yaml"));
    fs.writeFileSync(path.join(boards, "other.yaml"), fs.readFileSync(path.join(boards, "sim.yaml"), "utf8").replace("name: sim", "name: other"));
    const { file } = writeConfig(
      base((c) => {
        c.agent.token = "file-token-value";
        c.agent.url = "wss://ws.coze.cn/v1/chat";
        c.log = { level: "warn" };
        c.control = { socket: "/from/file.sock" };
      }),
    );
    const { config, board, secrets } = loadConfig({
      path: file,
      boardsDir: boards,
      env: {
        TALKBOX_TOKEN: CANARY,
        TALKBOX_BOT_ID: "42",
        TALKBOX_AGENT_URL: "ws://127.0.0.1:9000/v1/chat",
        TALKBOX_BOARD: "other",
        TALKBOX_CONTROL_SOCKET: "/from/env.sock",
        TALKBOX_LOG_LEVEL: "trace",
      },
    });
    assert.equal(config.agent.token, CANARY);
    assert.deepEqual(secrets, [CANARY]);
    assert.equal(config.agent.coze.bot_id, "42");
    assert.equal(config.agent.url, "ws://127.0.0.1:9000/v1/chat");
    assert.equal(config.board, "other");
    assert.equal(board.name, "other");
    assert.equal(config.control.socket, "/from/env.sock");
    assert.equal(config.log.level, "trace");
  });

  test("a bad value from the environment names the variable", () => {
    const { file } = writeConfig(base());
    const err = configError(() => load(file, { TALKBOX_LOG_LEVEL: "loud" }));
    assert.match(issueFor(err, "log.level"), /"info".*\(value from TALKBOX_LOG_LEVEL\)/);
  });

  test("a token from the environment satisfies a real URL and never shows in errors", () => {
    const { file } = writeConfig({ agent: { bot_id: "1", speech_rate: 500 } });
    const err = configError(() => load(file, { TALKBOX_TOKEN: CANARY }));
    assert.ok(!err.issues.some((i) => i.startsWith("agent.token")), err.message);
    issueFor(err, "agent.speech_rate");
  });
});

describe("loadConfig: bad files", () => {
  test("a YAML syntax error names the file, line and column", () => {
    const { file } = writeConfig(`agent:\n  bot_id: "1"\n  token: ${CANARY}: oops\n`);
    const err = configError(() => load(file));
    assert.ok(err.message.startsWith(file), err.message);
    assert.match(err.message, /YAML syntax error at line 3, column \d+/);
  });

  const bad: Array<[string, (c: any) => void, string, RegExp]> = [
    ["a wrong type", (c) => (c.agent.ping_interval_ms = "soon"), "agent.ping_interval_ms", /expected a number, got text/],
    ["a fraction", (c) => (c.conversation = { reply_timeout_ms: 1.5 }), "conversation.reply_timeout_ms", /whole number/],
    ["a mapping where a value belongs", (c) => (c.board = { name: "sim" }), "board", /expected text, got a mapping/],
    ["a speech rate out of range", (c) => (c.agent.speech_rate = 101), "agent.speech_rate", /at most 100/],
    ["a zero timeout", (c) => (c.agent.reconnect = { initial_ms: 0 }), "agent.reconnect.initial_ms", /at least 10/],
    ["an unsupported sample rate", (c) => (c.audio = { output: { sample_rate: 12345 } }), "audio.output.sample_rate", /one of 8000, .*48000/],
    ["an Opus frame length Coze does not take", (c) => (c.audio = { opus_frame_ms: 60 }), "audio.opus_frame_ms", /expected 20 or 40/],
    ["a mic period too long", (c) => (c.audio = { capture_period_ms: 500 }), "audio.capture_period_ms", /at most 200/],
    ["G.711 at a rate other than 8000 Hz", (c) => (c.audio = { uplink_codec: "g711a", uplink_rate: 16000 }), "audio.uplink_rate", /g711a runs at 8000 Hz/],
    ["Opus at a rate it cannot run at", (c) => (c.audio = { downlink_codec: "opus", downlink_rate: 44100 }), "audio.downlink_rate", /opus runs at 8000, 12000, 16000, 24000, 48000 Hz/],
    ["an unknown codec", (c) => (c.audio = { uplink_codec: "mp3" }), "audio.uplink_codec", /"pcm"/],
    ["an unknown echo mode", (c) => (c.audio = { echo: "cancel" }), "audio.echo", /"gate".*"none"/],
    ["a bad log level", (c) => (c.log = { level: "verbose" }), "log.level", /"trace".*"silent"/],
    ["an unknown backend", (c) => (c.agent.backend = "openai"), "agent.backend", /expected one of "coze", "realtime"/],
    ["an unknown mode", (c) => (c.conversation = { mode: "hands-free" }), "conversation.mode", /"push-to-talk".*"free"/],
    ["a duration above Node's timer range", (c) => (c.agent.reconnect = { auth_failure_ms: 3_000_000_000 }), "agent.reconnect.auth_failure_ms", /at most 86400000/],
    ["an OpenAI temperature outside 0.6–1.2", (c) => Object.assign(c.agent, { backend: "realtime", flavour: "openai", temperature: 1.5 }), "agent.temperature", /OpenAI's Realtime API takes 0.6 to 1.2/],
    ["noise reduction on Coze", (c) => (c.agent.noise_reduction = "far_field"), "agent.noise_reduction", /only the OpenAI Realtime API has it/],
    ["a reply pace on the Realtime backend", (c) => Object.assign(c.agent, { backend: "realtime", reply_pace: 1.2 }), "agent.reply_pace", /only Coze takes it/],
    ["a reply pace slower than real time", (c) => (c.agent.reply_pace = 0.5), "agent.reply_pace", /0 \(no limit\) or 1 to 10/],
    ["an Opus bitrate with PCM replies", (c) => Object.assign(c.agent, { opus_bitrate: 32000 }), "agent.opus_bitrate", /Opus replies only.*audio\.downlink_codec: opus/],
    ["an Opus bitrate beyond libopus", (c) => Object.assign(c.agent, { opus_bitrate: 600000 }), "agent.opus_bitrate", /at most 510000/],
    ["a reply timeout of an hour", (c) => (c.conversation = { reply_timeout_ms: 3_600_000 }), "conversation.reply_timeout_ms", /at most 600000/],
    ["a reply buffer below 5 s", (c) => (c.audio = { reply_buffer_ms: 1000 }), "audio.reply_buffer_ms", /at least 5000/],
    ["a continue age without a unit", (c) => (c.conversation = { continue: "30" }), "conversation.continue", /true, false or an age such as "30m"/],
    ["a silence window too short", (c) => (c.conversation = { vad: { silence_duration_ms: 10 } }), "conversation.vad.silence_duration_ms", /at least 100/],
    ["a typo in a key", (c) => (c.agent.boot_id = "1"), "agent.boot_id", /unknown key; allowed keys here: backend, url, token, coze, realtime, voiceapi, connect_timeout_ms/],
    ["a typo in a backend's section", (c) => (c.agent.coze = { boot_id: "1" }), "agent.coze.boot_id", /unknown key; allowed keys here: bot_id, device_id/],
    ["an unknown top-level key", (c) => (c.agent_list = {}), "agent_list", /allowed keys here: board, board_overrides, agent, agents, conversation, audio, announce, earcons, control, state, analytics, tools, log/],
    ["an http URL", (c) => (c.agent.url = "https://api.coze.cn"), "agent.url", /ws:\/\/ or wss:\/\//],
    ["a URL that is not one", (c) => (c.agent.url = "coze"), "agent.url", /"emulator"/],
    ["a device_id with letters", (c) => (c.agent.device_id = "dev-1"), "agent.device_id", /digits only/],
    ["an unquoted device_id", (c) => (c.agent.device_id = 7351234567890), "agent.device_id", /in quotes/],
    ["an empty token", (c) => (c.agent.token = ""), "agent.token", /must not be empty/],
    ["a missing token", (c) => delete c.agent.token, "agent.token", /agent\.token in the config file, the TALKBOX_TOKEN environment variable or a systemd credential named token/],
    ["a missing bot_id", (c) => delete c.agent.bot_id, "agent.coze.bot_id", /TALKBOX_BOT_ID/],
    ["an unknown board", (c) => (c.board = "nosuch"), "board", /unknown board "nosuch"; available boards: .*sim/],
    ["Opus on the Volcengine gateway", (c) => ((c.agent.backend = "realtime"), (c.audio = { uplink_codec: "opus" })), "audio", /the Volcengine gateway takes only pcm at 16000 Hz .*set uplink_codec: pcm/],
    ["pcm at 16 kHz on OpenAI Realtime", (c) => ((c.agent = { backend: "realtime", flavour: "openai", token: "k" }), (c.audio = { downlink_rate: 16000 })), "audio", /OpenAI Realtime takes pcm at 24000 Hz or g711u/],
  ];
  for (const [what, patch, key, reason] of bad) {
    test(`${what} is reported at ${key}`, () => {
      const { file } = writeConfig(base(patch));
      const err = configError(() => load(file));
      assert.match(issueFor(err, key), reason);
    });
  }

  test("the file is named and every problem is listed", () => {
    const { file } = writeConfig(base((c) => ((c.agent.speech_rate = -51), (c.log = { format: "xml" }))));
    const err = configError(() => load(file));
    assert.ok(err.message.startsWith(`${file}:\n`), err.message);
    assert.equal(err.issues.length, 2);
    issueFor(err, "agent.speech_rate");
    issueFor(err, "log.format");
  });

  test("a file that is a list, not a mapping", () => {
    const { file } = writeConfig("- board: sim\n");
    const err = configError(() => load(file));
    assert.match(issueFor(err, "(whole file)"), /expected a mapping/);
  });

  test("an explicit path that does not exist", () => {
    const missing = path.join(freshDir(), "nope.yaml");
    const err = configError(() => loadConfig({ path: missing, env: {} }));
    assert.match(err.message, new RegExp(`^${missing}: config file not found`));
  });

  test("a bad board profile names the profile file and key", () => {
    const boards = path.join(freshDir(), "boards");
    fs.mkdirSync(boards);
    fs.writeFileSync(path.join(boards, "sim.yaml"), stringify({ name: "sim", description: "x", audio: { capture: {}, playback: {} } }));
    const { file } = writeConfig(base());
    const err = configError(() => loadConfig({ path: file, env: {}, boardsDir: boards }));
    assert.ok(err.message.startsWith(path.join(boards, "sim.yaml")), err.message);
    issueFor(err, "audio.capture.device");
  });
});

describe("loadConfig: paths and boards", () => {
  test("a relative control.socket is resolved against the config file's directory", () => {
    const { dir, file } = writeConfig(base((c) => (c.control = { socket: "run/ctl.sock" })));
    const { config } = loadConfig({ path: file, env: {}, cwd: root });
    assert.equal(config.control.socket, path.join(dir, "run/ctl.sock"));
  });

  test("a relative control.socket from the environment is resolved against cwd", () => {
    const { file } = writeConfig(base());
    const cwd = freshDir();
    const { config } = loadConfig({ path: file, env: { TALKBOX_CONTROL_SOCKET: "ctl.sock" }, cwd });
    assert.equal(config.control.socket, path.join(cwd, "ctl.sock"));
  });

  test("audio defaults come from the board profile; the user config wins", () => {
    const boards = path.join(freshDir(), "boards");
    fs.mkdirSync(boards);
    fs.writeFileSync(
      path.join(boards, "usb.yaml"),
      stringify({
        name: "usb",
        description: "USB mic and speaker",
        audio: {
          capture: { device: "plughw:CARD=Mic", sample_rate: 48000 },
          playback: { device: "plughw:CARD=Speaker", sample_rate: 44100 },
        },
      }),
    );
    const { file } = writeConfig(base((c) => ((c.board = "usb"), (c.audio = { output: { sample_rate: 24000 } }))));
    const { config } = loadConfig({ path: file, env: {}, boardsDir: boards });
    assert.deepEqual(config.audio.input, { device: "plughw:CARD=Mic", sample_rate: 48000, channels: 1, format: "S16_LE" });
    assert.deepEqual(config.audio.output, { device: "plughw:CARD=Speaker", sample_rate: 24000, channels: 1, format: "S16_LE" });
  });
});

describe("echo default from the board", () => {
  test("a board with acoustic echo cancellation defaults to full duplex; others to the gate", () => {
    const boards = path.join(freshDir(), "boards");
    fs.mkdirSync(boards);
    for (const [name, aec] of [["aec", true], ["plain", false]] as const) {
      fs.writeFileSync(
        path.join(boards, `${name}.yaml`),
        stringify({ name, description: "x", audio: { capture: { device: "hw:1", sample_rate: 16000 }, playback: { device: "hw:1", sample_rate: 16000 }, aec } }),
      );
    }
    const echoOf = (board: string): string => {
      const { file } = writeConfig(base((c) => (c.board = board)));
      return loadConfig({ path: file, env: {}, boardsDir: boards }).config.audio.echo;
    };
    assert.equal(echoOf("aec"), "none");
    assert.equal(echoOf("plain"), "gate");
  });
});

describe("board_overrides", () => {
  test("the config can change any profile key: a button pin, LEDs, the capture device", () => {
    const { file } = writeConfig(
      base((c) => {
        c.board = "usb-generic";
        c.board_overrides = { buttons: [{ name: "talk", driver: "gpio", pin: 22 }], audio: { capture: { device: "plughw:2,0" } } };
      }),
    );
    const { board, config } = loadConfig({ path: file, env: {} });
    assert.deepEqual(board.buttons.map((b) => [b.name, b.driver, b.driver === "gpio" ? b.pin : null]), [["talk", "gpio", 22]]);
    assert.equal(board.audio.capture.device, "plughw:2,0");
    assert.equal(board.audio.capture.sample_rate, 16000, "keys not overridden stay");
    assert.equal(config.audio.input.device, "plughw:2,0");
  });

  test("a bad override names the profile, the config file and the key", () => {
    const { file } = writeConfig(base((c) => ((c.board = "usb-generic"), (c.board_overrides = { leds: [{ driver: "gpio", pin: 99 }] }))));
    const err = configError(() => loadConfig({ path: file, env: {} }));
    assert.match(err.message, /usb-generic\.yaml with board_overrides from .*talkbox\.yaml/);
    assert.match(err.message, /leds\[0\]\.pin: .*63/);
  });
});

describe("maskSecrets", () => {
  test("hides the token and leaves the original intact", () => {
    const { file } = writeConfig(base());
    const { config } = load(file);
    const masked = maskSecrets(config);
    assert.equal(masked.agent.token, "********");
    assert.ok(!JSON.stringify(masked).includes(CANARY));
    assert.equal(config.agent.token, CANARY);
  });
});

describe("the voice API's api_key is agent.token", () => {
  test("agent.voiceapi.api_key is taken as the token: scrubbed, its source the file, the environment over it", () => {
    const { file } = writeConfig({ agent: { backend: "voiceapi", voiceapi: { host: "voice.example.com", api_key: CANARY } } });
    const loaded = load(file);
    assert.equal(loaded.config.agent.token, CANARY);
    assert.ok(loaded.secrets.includes(CANARY));
    assert.equal(loaded.secretSources["agent.token"]?.kind, "file");
    assert.ok(!("api_key" in (loaded.config.agent as unknown as { voiceapi: Record<string, unknown> }).voiceapi), "the key stayed in the section");
    assert.equal(load(file, { TALKBOX_TOKEN: "from-the-environment" }).config.agent.token, "from-the-environment");
  });

  test("both set: an error naming both; a bad one is reported under the name written", () => {
    const both = writeConfig({ agent: { backend: "voiceapi", token: CANARY, voiceapi: { host: "voice.example.com", api_key: "another-key" } } });
    const err = configError(() => load(both.file));
    assert.match(err.message, /agent\.voiceapi\.api_key: also set as agent\.token; keep only one/);
    const bad = writeConfig({ agent: { backend: "voiceapi", voiceapi: { host: "voice.example.com", api_key: 42 } } });
    assert.match(configError(() => load(bad.file)).message, /agent\.voiceapi\.api_key/);
  });
});
