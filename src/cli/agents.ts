/**
 * `talkbox agents`: the agent profiles (name, backend, intro, which is in use, saved
 * conversations); `talkbox agent NAME`: switch to one, answered once its link is up.
 */
import { askDaemon } from "./ask-daemon";
import { EXIT_FAILURE, EXIT_OK } from "./exit-codes";

interface Options {
  socket: string;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** A switch waits for the new link: up to its connect timeout and the session's set-up. */
const SWITCH_TIMEOUT_MS = 60_000;

const writer = (fd: NodeJS.WriteStream) => (line: string) => fd.write(`${line}\n`);

export async function agentsCommand(opts: Options & { json?: boolean; now?: number }): Promise<number> {
  const out = opts.out ?? writer(process.stdout);
  const reply = await askDaemon(opts.socket, { Command: "Agents" }, opts.err ?? writer(process.stderr));
  if (reply === null) return EXIT_FAILURE;
  if (opts.json) {
    const { Ok: _ok, ...rest } = reply;
    out(JSON.stringify(rest));
    return EXIT_OK;
  }
  for (const line of agentsTable(reply["Agents"] as AgentRow[], opts.now ?? Date.now())) out(line);
  return EXIT_OK;
}

export async function agentCommand(opts: Options & { name: string }): Promise<number> {
  const out = opts.out ?? writer(process.stdout);
  const reply = await askDaemon(opts.socket, { Command: "Agent", Name: opts.name }, opts.err ?? writer(process.stderr), SWITCH_TIMEOUT_MS);
  if (reply === null) return EXIT_FAILURE;
  out(reply["Result"] === "already" ? `already talking to ${String(reply["Title"])} (${opts.name})` : `now talking to ${String(reply["Title"])} (${opts.name})`);
  return EXIT_OK;
}

interface AgentRow {
  Name: string;
  Title: string;
  Backend: string;
  Intro?: string;
  Active: boolean;
  Conversations: { Users: number; LastTurnAt: string | null };
}

/** One line per profile: `*` marks the one in use. */
export function agentsTable(rows: readonly AgentRow[], now: number): string[] {
  const cells = [
    ["", "NAME", "TITLE", "BACKEND", "CONVERSATIONS", "LAST TURN", "INTRO"],
    ...rows.map((r) => [
      r.Active ? "*" : "",
      r.Name,
      r.Title,
      r.Backend,
      String(r.Conversations.Users),
      r.Conversations.LastTurnAt === null ? "-" : ago(now - Date.parse(r.Conversations.LastTurnAt)),
      r.Intro ?? "",
    ]),
  ];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd());
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}
