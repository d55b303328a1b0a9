/** The CLI's help texts: `talkbox help`, `talkbox help COMMAND`, `talkbox COMMAND --help`. */
import { EXIT_MEANINGS } from "./exit-codes";

interface CommandHelp {
  /** As typed after `talkbox`, e.g. "config check". */
  name: string;
  summary: string;
  usage: string;
  about?: string;
  options: ReadonlyArray<readonly [string, string]>;
  examples: ReadonlyArray<readonly [string, string]>;
  /** The exit statuses this command can end with. */
  exits: readonly number[];
}

const CONFIG_OPTION = ["-c, --config FILE", "the config file (default: ./talkbox.yaml, then /etc/talkbox/talkbox.yaml)"] as const;
const SOCKET_OPTION = ["--socket PATH", "the daemon's control socket (default: TALKBOX_CONTROL_SOCKET, then control.socket from the config)"] as const;

const COMMANDS: readonly CommandHelp[] = [
  {
    name: "run",
    summary: "run the daemon",
    usage: "talkbox run [--config FILE]",
    about:
      "Opens the mic and the speaker, connects to the agent and serves the control socket until SIGTERM,\n" +
      "SIGINT or the q key. Under systemd (Type=notify) it reports readiness (READY=1), its state\n" +
      "(STATUS=) and shutdown (STOPPING=1), and pets the watchdog (WatchdogSec=).\n\n" +
      "agent.token comes from, first found: TALKBOX_TOKEN, the systemd credential 'token'\n" +
      "($CREDENTIALS_DIRECTORY/token, from LoadCredential=token:/etc/talkbox/token), the config file.\n" +
      "TALKBOX_BOT_ID, TALKBOX_AGENT_URL, TALKBOX_BOARD, TALKBOX_CONTROL_SOCKET and TALKBOX_LOG_LEVEL\n" +
      "override their config keys too.",
    options: [CONFIG_OPTION],
    examples: [
      ["talkbox run", "with ./talkbox.yaml or /etc/talkbox/talkbox.yaml"],
      ["TALKBOX_AGENT_URL=emulator talkbox run", "try it with the built-in echo agent, no account needed"],
    ],
    exits: [0, 1, 78],
  },
  {
    name: "talk",
    summary: "hold the talk button for N seconds through the control socket",
    usage: "talkbox talk --seconds N [--name BUTTON] [--socket PATH | --config FILE]",
    options: [
      ["-s, --seconds N", "how long to hold the button (0 < N ≤ 300)"],
      ["--name BUTTON", "which of the board's buttons (default: talk)"],
      SOCKET_OPTION,
      CONFIG_OPTION,
    ],
    examples: [["talkbox talk --seconds 3", "speak into the mic for three seconds, then hear the reply"]],
    exits: [0, 1, 2, 130],
  },
  {
    name: "status",
    summary: "show the daemon's state, link and last turn's timings",
    usage: "talkbox status [--follow] [--json] [--socket PATH | --config FILE]",
    options: [
      ["--follow, -f", "keep watching: a line per state change, transcript, reply, error and volume change, until Ctrl-C"],
      ["--json", "the daemon's reply as one JSON object (with --follow: one per line)"],
      SOCKET_OPTION,
      CONFIG_OPTION,
    ],
    examples: [
      ["talkbox status", "one 'key: value' per line"],
      ["talkbox status --json | jq .Link", "the agent link only"],
      ["talkbox status --follow", "what the device does, as it does it"],
    ],
    exits: [0, 1, 2],
  },
  {
    name: "volume",
    summary: "show or change the speaker volume of the running daemon",
    usage: "talkbox volume [PERCENT | +N | -N] [--socket PATH | --config FILE]",
    about:
      "The same volume the agent's set_volume tool changes (audio.volume: a software gain or the\n" +
      "card's mixer). It is saved in the state directory and survives restarts.",
    options: [SOCKET_OPTION, CONFIG_OPTION],
    examples: [
      ["talkbox volume", "the current volume"],
      ["talkbox volume 60", "set it to 60 %"],
      ["talkbox volume -10", "10 points quieter"],
    ],
    exits: [0, 1, 2],
  },
  {
    name: "say",
    summary: "have the running daemon speak a text on its own (seed 004's ExternalTextToSpeech)",
    usage: 'talkbox say "TEXT" [--mode 1|2|3] [--socket PATH | --config FILE]',
    about:
      "TEXT (1 to 200 characters) is spoken in the agent's voice when it can, else in the device's\n" +
      "offline voice (espeak-ng). --mode 1 ends whatever goes on and speaks now; 2 (the default)\n" +
      "speaks when the current interaction ends; 3 speaks only if the device is idle, else drops it.\n" +
      "Exit 3: dropped.",
    options: [["--mode, -m N", "1 high, 2 medium (default), 3 low"], SOCKET_OPTION, CONFIG_OPTION],
    examples: [
      ['talkbox say "Someone is at the door"', "after the current answer, if any"],
      ['talkbox say --mode 1 "Battery low"', "now, interrupting"],
      ['talkbox say --mode 3 "Good morning"', "only if nothing else goes on"],
    ],
    exits: [0, 1, 2, 3],
  },
  {
    name: "text",
    summary: "ask the running daemon's agent a typed question; the answer is spoken",
    usage: 'talkbox text "QUESTION" [--user ID] [--socket PATH | --config FILE]',
    about:
      "QUESTION (1 to 2000 characters) goes to the agent as a user turn, skipping speech\n" +
      "recognition (Coze: a user message; OpenAI Realtime: a user item; the voice API v2: a\n" +
      "text frame). Whatever the device says is interrupted, as by a press. Refused while the\n" +
      "talk button is held, without a link, and on backends without text (the Volcengine\n" +
      "gateway, the voice API v1).",
    options: [["--user, -u ID", "who asks (a button's user_id); default conversation.user_id"], SOCKET_OPTION, CONFIG_OPTION],
    examples: [
      ['talkbox text "What is the weather tomorrow?"', "as the device's user"],
      ['talkbox text --user passenger "Play some music"', "as the passenger"],
    ],
    exits: [0, 1, 2],
  },
  {
    name: "new-conversation",
    summary: "start a new conversation with the agent, as a long press does",
    usage: "talkbox new-conversation [--agent NAME] [--user ID] [--socket PATH | --config FILE]",
    about:
      "The next question no longer continues the saved conversation. Conversations are kept per\n" +
      "agent profile and user, and survive restarts as conversation.continue says. On Coze each\n" +
      "user has their own: --user starts a new one for that user only. The Realtime backend and\n" +
      "the voice API keep one conversation per connection: it starts anew for everyone.",
    options: [
      ["--agent, -a NAME", "which agent profile's (default: the one in use; talkbox agents lists them)"],
      ["--user, -u ID", "whose conversation (a button's user_id); default the device user's"],
      SOCKET_OPTION,
      CONFIG_OPTION,
    ],
    examples: [
      ["talkbox new-conversation", "the device user's, with the agent in use"],
      ["talkbox new-conversation --user passenger", "the passenger's only"],
      ["talkbox new-conversation --agent tutor", "the tutor's, even while another agent is in use"],
    ],
    exits: [0, 1, 2],
  },
  {
    name: "agents",
    summary: "list the agent profiles: name, backend, intro, which is in use, saved conversations",
    usage: "talkbox agents [--json] [--socket PATH | --config FILE]",
    about:
      "The profiles are agent: (named default) and each entry of agents: in the config. A * marks\n" +
      "the one in use. CONVERSATIONS: how many users have a conversation saved with it (continued\n" +
      "at their next turn, as conversation.continue says); LAST TURN: when one of them last spoke.",
    options: [["--json", "the answer as JSON"], SOCKET_OPTION, CONFIG_OPTION],
    examples: [["talkbox agents", "the table"]],
    exits: [0, 1, 2],
  },
  {
    name: "agent",
    summary: "switch the running daemon to another agent profile",
    usage: "talkbox agent NAME [--socket PATH | --config FILE]",
    about:
      "What goes on ends (a reply is cut, a held turn dropped), the link to the current agent\n" +
      "closes and NAME's opens; once it is up NAME says its intro and the command returns. A\n" +
      "profile that cannot connect is named in the error, and the previous one is back in use.\n" +
      "The profile in use is saved: a restart comes back to it. A triple press on the talk\n" +
      "button goes to the next profile; the agent itself can switch with its switch_agent tool.",
    options: [SOCKET_OPTION, CONFIG_OPTION],
    examples: [
      ["talkbox agent tutor", "talk to the tutor"],
      ["talkbox agent default", "back to the agent: section's agent"],
    ],
    exits: [0, 1, 2],
  },
  {
    name: "stats",
    summary: "conversation analytics: turns, replies, interruptions, errors, reply latency",
    usage: "talkbox stats [--since AGE|DATE] [--agent NAME] [--limit N] [--json] [--socket PATH | --config FILE]",
    about:
      "Totals per agent, then the latest conversations, from the device's own store\n" +
      "(<state.dir>/analytics.db). Latency: end of the user's speech (key release, or the\n" +
      "server's speech_stopped) to the first reply sample played, p50 and p95. A conversation\n" +
      "is one agent, one user, one server conversation id (or the device's own, until a new\n" +
      "conversation or a restart). Needs the optional package better-sqlite3 (talkbox doctor).",
    options: [
      ["--since AGE|DATE", "conversations that went on since then: 30m, 24h, 7d, or a date (2026-12-01)"],
      ["--agent NAME", "one agent profile's (default: every one's)"],
      ["--limit N", "how many conversations to list (default 20)"],
      ["--json", "the answer as JSON"],
      SOCKET_OPTION,
      CONFIG_OPTION,
    ],
    examples: [
      ["talkbox stats", "everything kept"],
      ["talkbox stats --since 24h --json", "the last day, as JSON"],
    ],
    exits: [0, 1, 2],
  },
  {
    name: "config check",
    summary: "validate the config and print the effective one, secrets masked",
    usage: "talkbox config check [--config FILE]",
    about:
      "Prints the config the daemon would run with — defaults, the board's audio settings and the\n" +
      "environment filled in — as YAML with the token masked, the board, and where each secret\n" +
      "came from. Warnings (e.g. a config file others can read) go to stderr. On an invalid config\n" +
      "it prints one line per problem and exits 78.",
    options: [CONFIG_OPTION],
    examples: [
      ["talkbox config check", "check ./talkbox.yaml or /etc/talkbox/talkbox.yaml"],
      ["sudo CREDENTIALS_DIRECTORY=/etc/talkbox talkbox config check", "with the token the service gets from /etc/talkbox/token"],
    ],
    exits: [0, 2, 78],
  },
  {
    name: "emulator",
    summary: "run the built-in agent emulator (Coze /v1/chat and Realtime /v1/realtime, echo agent)",
    usage: "talkbox emulator [--port N] [--host ADDR] [--token T]",
    options: [
      ["-p, --port N", "the port to listen on (default 8765; 0 picks a free one)"],
      ["--host ADDR", "the address to listen on (default 127.0.0.1)"],
      ["--token T", "require Authorization: Bearer T, to test token handling"],
    ],
    examples: [["talkbox emulator --port 8765", "then set agent.url: ws://127.0.0.1:8765/v1/chat"]],
    exits: [0, 1, 2],
  },
  {
    name: "boards",
    summary: "list the board profiles",
    usage: "talkbox boards",
    options: [],
    examples: [["talkbox boards", "names to use as the config's board:"]],
    exits: [0],
  },
  {
    name: "doctor",
    summary: "check sound devices, GPIO, SPI, serial ports and the agent; says how to fix each",
    usage: "talkbox doctor [--config FILE]",
    options: [CONFIG_OPTION],
    examples: [
      ["talkbox doctor", "check everything this config needs"],
      ["sudo -u talkbox talkbox doctor -c /etc/talkbox/talkbox.yaml", "with the service user's permissions"],
    ],
    exits: [0, 1, 2, 78],
  },
  {
    name: "version",
    summary: "print the version of talkbox and Node.js",
    usage: "talkbox version",
    options: [],
    examples: [["talkbox version", ""]],
    exits: [0],
  },
  {
    name: "help",
    summary: "this text, or a command's",
    usage: "talkbox help [COMMAND]",
    options: [],
    examples: [["talkbox help config check", "the same as talkbox config check --help"]],
    exits: [0, 2],
  },
];

function table(rows: ReadonlyArray<readonly [string, string]>, indent = "  "): string[] {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => (v ? `${indent}${k.padEnd(width)}  ${v}` : `${indent}${k}`).trimEnd());
}

function exitTable(codes?: readonly number[]): string[] {
  return table(EXIT_MEANINGS.filter(([code]) => !codes || codes.includes(code)).map(([code, meaning]) => [String(code), meaning]));
}

export function mainHelp(): string {
  return [
    "talkbox — voice-agent daemon for a device with a mic, a speaker and a talk button",
    "",
    "Usage: talkbox COMMAND [OPTIONS]",
    "",
    "Commands:",
    ...table(COMMANDS.map((c) => [c.name, c.summary])),
    "",
    "Run 'talkbox COMMAND --help' (or 'talkbox help COMMAND') for a command's options and examples.",
    "",
    "Exit codes:",
    ...exitTable(),
  ].join("\n");
}

/** The help for "run", "config check", …; null for a command that does not exist. */
export function commandHelp(name: string): string | null {
  const c = COMMANDS.find((cmd) => cmd.name === name);
  if (!c) return null;
  const lines = [`talkbox ${c.name} — ${c.summary}`, "", `Usage: ${c.usage}`];
  if (c.about) lines.push("", c.about);
  lines.push("", "Options:", ...table([...c.options, ["-h, --help", "this text"]]));
  if (c.examples.length > 0) lines.push("", "Examples:", ...table(c.examples));
  lines.push("", "Exit codes:", ...exitTable(c.exits));
  return lines.join("\n");
}

/** The commands that have a sub-command, and theirs (for `talkbox config` alone). */
export function subcommands(name: string): string[] {
  return COMMANDS.filter((c) => c.name.startsWith(`${name} `)).map((c) => c.name.slice(name.length + 1));
}
