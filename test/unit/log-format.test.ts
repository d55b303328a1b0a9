/**
 * Logs for people on a terminal, structured JSON everywhere else (journald, pipes): the real
 * logger in a child process whose stdout is a real pty (script(1)) or a pipe.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";

const LOGGER = path.resolve(__dirname, "../../src/log/logger.js");
const program = `
const { createLogger } = require(${JSON.stringify(LOGGER)});
const log = createLogger({ level: "info", format: process.argv[1], secrets: ["sk-test-secret-1234"] });
log.info({ board: "sim" }, "talkbox starting with token sk-test-secret-1234");
log.flush?.();
`;

function onTerminal(format: string): string {
  // script gives the child a pty as stdout; -e passes its exit status on.
  const cmd = `${process.execPath} -e ${shellQuote(program)} ${format}`;
  return execFileSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", timeout: 20_000 });
}

function onPipe(format: string): string {
  return execFileSync(process.execPath, ["-e", program, format], { encoding: "utf8", timeout: 20_000 });
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

// eslint-disable-next-line no-control-regex
const plain = (s: string): string => s.replace(/\u001b\[[0-9;]*m/g, "").replace(/\r/g, "");

test("format auto: one readable line on a terminal, JSON in a pipe; the secret masked in both", () => {
  const tty = plain(onTerminal("auto")).trim();
  assert.match(tty, /^\[?\d\d:\d\d:\d\d\.\d{3}\]? INFO: talkbox starting with token \[redacted\] \{?.*board.*sim/);
  assert.throws(() => JSON.parse(tty), "a terminal gets no JSON");
  const piped = onPipe("auto").trim();
  const line = JSON.parse(piped) as Record<string, unknown>;
  assert.equal(line.msg, "talkbox starting with token [redacted]");
  assert.equal(line.board, "sim");
});

test("format json on a terminal and pretty in a pipe: the key wins over the guess", () => {
  const tty = plain(onTerminal("json")).trim();
  assert.equal((JSON.parse(tty) as { msg: string }).msg, "talkbox starting with token [redacted]");
  const piped = plain(onPipe("pretty")).trim();
  assert.match(piped, /INFO: talkbox starting with token \[redacted\]/);
  assert.ok(!piped.includes("sk-test-secret-1234"));
});
