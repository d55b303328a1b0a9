/**
 * A server that takes every session and then ends it at once (an error, then a
 * close): the link must not reconnect in a hot loop. Real sockets through the fault
 * proxy to the emulator; the link's timers on a fake clock, so ten minutes take a
 * moment. The rule: at most 10 reconnects a minute once the back-off has grown.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { CozeBackend } from "../../src/agent/coze/client";
import { RealtimeBackend } from "../../src/agent/realtime/client";
import type { AgentEvent } from "../../src/agent/events";
import { startEmulator, type Emulator } from "../../src/emulator/server";
import { silentLogger } from "../../src/log/logger";
import { noConversations } from "../../src/core/conversations";
import { FakeClock } from "../support/fake-clock";
import { cozeLinkOptions, PCM16K } from "../support/coze-link";
import { FaultProxy } from "../support/fault-proxy";

const MINUTES = 10;

interface Attempt {
  at: number;
  down: Extract<AgentEvent, { type: "link.down" }>;
}

/** Runs the link for MINUTES of fake time; every link.down's retry is waited out on the fake clock. */
async function run(start: (clock: FakeClock, on: (e: AgentEvent) => void) => { stop(): Promise<void> }): Promise<{ attempts: Attempt[]; readies: number }> {
  const clock = new FakeClock();
  const attempts: Attempt[] = [];
  let readies = 0;
  let signal: (() => void) | null = null;
  const link = start(clock, (e) => {
    if (e.type === "link.ready") readies++;
    if (e.type !== "link.down") return;
    attempts.push({ at: clock.now(), down: e });
    signal?.();
  });
  try {
    while (clock.now() < MINUTES * 60_000) {
      const seen = attempts.length;
      await new Promise<void>((resolve, reject) => {
        const guard = setTimeout(() => reject(new Error(`no link.down after attempt ${seen}`)), 10_000);
        signal = () => {
          clearTimeout(guard);
          resolve();
        };
        if (attempts.length > seen) signal();
      });
      clock.advance(attempts.at(-1)!.down.retryInMs ?? 60_000);
    }
  } finally {
    await link.stop();
  }
  return { attempts, readies };
}

/** Reconnects per minute over the second half of the run (the back-off has had time to grow). */
function steadyRate(attempts: Attempt[]): number {
  const from = (MINUTES / 2) * 60_000;
  return attempts.filter((a) => a.at >= from).length / (MINUTES / 2);
}

describe("fault suite: a server that ends every session right after it is ready", () => {
  let emu: Emulator;
  let proxy: FaultProxy;
  before(async () => {
    emu = await startEmulator();
    proxy = await FaultProxy.start(emu.url);
  });
  after(async () => {
    await proxy.close();
    await emu.close();
  });

  const coze: Array<[string, number, number, RegExp]> = [
    ["error 5000, then close 1011", 5000, 1011, /code 1011/],
    ["error 4008 (quota), then close 1000", 4008, 1000, /quota/],
    ["error 4016, then close 1000", 4016, 1000, /code 1000/],
  ];
  for (const [what, code, close, message] of coze) {
    test(`Coze: ${what}: at most 10 reconnects a minute`, async () => {
      proxy.onServer = (conn, text) => {
        if (!text.includes('"chat.updated"')) return "pass";
        setImmediate(() => {
          conn.send(JSON.stringify({ id: "e", event_type: "error", data: { code, msg: "the server ends this session" } }));
          conn.close(close, "");
        });
        return "pass";
      };
      const { attempts, readies } = await run((clock, on) => {
        const b = new CozeBackend(cozeLinkOptions(proxy.url(emu.url)), silentLogger(), clock);
        b.subscribe(on);
        b.start();
        return b;
      });
      assert.ok(readies >= 1, "the sessions did become ready");
      const rate = steadyRate(attempts);
      assert.ok(rate <= 10, `${rate} reconnects a minute (${attempts.length} in ${MINUTES} min)`);
      assert.match(attempts.at(-1)!.down.message, message);
      if (code === 4008) assert.equal(attempts.at(-1)!.down.problem, "quota");
    });
  }

  test("Realtime: session.updated, then an error and close 1011: at most 10 reconnects a minute", async () => {
    proxy.onServer = (conn, text) => {
      if (!text.includes('"session.updated"')) return "pass";
      setImmediate(() => {
        conn.send(JSON.stringify({ type: "error", event_id: "e", error: { type: "server_error", code: "internal", message: "the server ends this session" } }));
        conn.close(1011, "");
      });
      return "pass";
    };
    const { attempts, readies } = await run((clock, on) => {
      const b = new RealtimeBackend(
        {
          flavour: "volcengine",
          url: proxy.url(emu.realtimeUrl),
          token: "k-1234",
          session: { tools: [], input: PCM16K, output: PCM16K, vad: { prefixPaddingMs: 300, silenceDurationMs: 500 } },
          mode: "push-to-talk",
          keepaliveMs: 0,
          conversations: () => noConversations,
          connectTimeoutMs: 5000,
          pingIntervalMs: 15_000,
          pingTimeoutMs: 10_000,
          reconnect: { initialMs: 500, maxMs: 30_000, authFailureMs: 300_000 },
        },
        silentLogger(),
        clock,
      );
      b.subscribe(on);
      b.start();
      return b;
    });
    assert.ok(readies >= 1);
    const rate = steadyRate(attempts);
    assert.ok(rate <= 10, `${rate} reconnects a minute (${attempts.length} in ${MINUTES} min)`);
  });
});
