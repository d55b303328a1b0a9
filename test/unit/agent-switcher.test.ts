/**
 * The agent switcher with a fake clock (issue 17): stand-in backends (the real ones are in the
 * integration test on the rig) record what is asked of them and emit what a link would. Checked:
 * the old backend is closed before the new one opens and is not heard after; a profile that
 * never comes up is given up after its connect timeout and the previous one comes back; one
 * switch at a time; the profile in use is saved; the intro goes through the announcement path.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { AgentBackend, BackendCapabilities } from "../../src/agent/backend";
import type { AgentEvent } from "../../src/agent/events";
import { ACTIVE_PROFILE_KEY, AgentSwitcher } from "../../src/app/agents/switcher";
import type { AgentProfile } from "../../src/app/agents/profiles";
import { MemoryStateStore } from "../../src/state/store";
import { silentLogger } from "../../src/log/logger";
import { FakeClock } from "../support/fake-clock";

class StandIn {
  readonly calls: string[] = [];
  private readonly listeners: Array<(e: AgentEvent) => void> = [];
  readonly backend: AgentBackend;
  constructor(readonly profile: string, capabilities: BackendCapabilities) {
    const call = (name: string) => () => {
      this.calls.push(name);
      return true;
    };
    this.backend = {
      name: profile,
      formats: null,
      capabilities,
      subscribe: (l) => void this.listeners.push(l),
      start: () => void this.calls.push("start"),
      stop: async () => void this.calls.push("stop"),
      wake: call("wake"),
      beginTurn: call("beginTurn"),
      appendAudio: call("appendAudio"),
      commitTurn: call("commitTurn"),
      abortTurn: call("abortTurn"),
      cancelReply: call("cancelReply"),
      submitToolOutputs: call("submitToolOutputs"),
      resetConversation: call("resetConversation"),
      setTurnDetection: call("setTurnDetection"),
      updateCredentials: call("updateCredentials"),
    } as AgentBackend;
  }
  emit(e: AgentEvent): void {
    for (const l of this.listeners) l(e);
  }
}

const READY: AgentEvent = { type: "link.ready", input: { codec: "pcm", sampleRate: 16000, channels: 1 }, output: { codec: "pcm", sampleRate: 16000, channels: 1 } };

function rig(saved?: string) {
  const clock = new FakeClock();
  const state = new MemoryStateStore();
  if (saved) state.set(ACTIVE_PROFILE_KEY, saved);
  const profile = (name: string, intro?: string): AgentProfile =>
    ({ name, title: name.toUpperCase(), ...(intro ? { intro } : {}), agent: { connect_timeout_ms: 2000 }, descriptor: { name: "coze", title: "Coze" } }) as unknown as AgentProfile;
  const profiles = [profile("default", "Hello."), profile("tutor", "Hi, tutor here.")];
  const made: StandIn[] = [];
  const conversation = { changes: 0, said: [] as string[], mode: "push-to-talk" as const, agentChanging() { this.changes++; }, announce(text: string) { this.said.push(text); }, newConversation() {} };
  const switcher = new AgentSwitcher(
    {
      factory: {
        profiles,
        profile: (n) => profiles.find((p) => p.name === n),
        create: (p) => {
          const s = new StandIn(p.name, { serverVad: true, interruption: true });
          made.push(s);
          return s.backend;
        },
        credentials: () => null,
        reload: () => {},
      },
      state,
      log: silentLogger(),
      clock,
    },
    "push-to-talk",
  );
  switcher.attach(conversation);
  const heard: string[] = [];
  switcher.backend.subscribe((e) => heard.push(`${switcher.backend.active.name}:${e.type}`));
  return { clock, state, switcher, made, conversation, heard };
}

/** Lets the switch's awaits run (the stand-ins' stop resolves at once). */
const settle = () => new Promise((r) => setImmediate(r));
/** Until the stand-in number `i` has been started (the switch's awaits have run). */
async function started(r: ReturnType<typeof rig>, i: number): Promise<StandIn> {
  for (let k = 0; k < 100 && !r.made[i]?.calls.includes("start"); k++) await settle();
  assert.ok(r.made[i]?.calls.includes("start"), `backend ${i} was not started`);
  return r.made[i]!;
}

describe("agent switcher", () => {
  test("a switch closes the old link first, opens the new one, hears only it, saves the profile and says its intro", async () => {
    const r = rig();
    r.made[0]!.emit(READY);
    const switching = r.switcher.switchTo("tutor", "a test");
    await settle();
    assert.deepEqual(r.made[0]!.calls, ["stop"]);
    assert.deepEqual(r.made[1]!.calls, ["start"]);
    assert.equal(r.conversation.changes, 1);
    // The old backend's late events do not reach the conversation.
    r.made[0]!.emit({ type: "link.down", problem: "network", message: "closed", retryInMs: null });
    r.made[1]!.emit(READY);
    const result = await switching;
    assert.equal(result.ok && result.profile.name, "tutor");
    assert.deepEqual(r.heard, ["default:link.ready", "tutor:link.ready"]);
    assert.equal(r.state.get(ACTIVE_PROFILE_KEY), "tutor");
    assert.deepEqual(r.conversation.said, ["Hi, tutor here."]);
    // Calls go to the new one only.
    r.switcher.backend.beginTurn({ userId: "u" });
    assert.deepEqual([r.made[0]!.calls.includes("beginTurn"), r.made[1]!.calls.includes("beginTurn")], [false, true]);
  });

  test("a profile that never comes up is given up after its connect timeout (+5 s) and the previous one is back", async () => {
    const r = rig();
    const switching = r.switcher.switchTo("tutor", "a test");
    await settle();
    // One switch at a time.
    const second = await r.switcher.switchTo("default", "another test");
    assert.equal(second.ok, false);
    assert.match(!second.ok ? second.reason : "", /a switch to 'tutor' is under way/);
    r.clock.advance(6999);
    await settle();
    assert.equal(r.made.length, 2, "gave up before the timeout");
    r.clock.advance(1);
    (await started(r, 2)).emit(READY);
    const result = await switching;
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.reason : "", /'tutor' \(Coze\) could not connect: no session within 7 s; back to 'default'/);
    assert.deepEqual(r.made.map((m) => [m.profile, m.calls.join(",")]), [["default", "stop"], ["tutor", "start,stop"], ["default", "start"]]);
    assert.equal(r.switcher.active.name, "default");
    assert.equal(r.state.get(ACTIVE_PROFILE_KEY), undefined);
    assert.deepEqual(r.conversation.said, [], "no intro for a profile that did not come");
  });

  test("a refusal gives up at once, naming the profile and the problem", async () => {
    const r = rig();
    const switching = r.switcher.switchTo("tutor", "a test");
    await settle();
    r.made[1]!.emit({ type: "link.down", problem: "quota", message: "the quota is used up", retryInMs: 300_000 });
    (await started(r, 2)).emit(READY);
    const result = await switching;
    assert.match(!result.ok ? result.reason : "", /'tutor' \(Coze\) could not connect: quota: the quota is used up/);
  });

  test("the profile saved at the last stop is the one to start with; one no longer in the config is not", () => {
    assert.equal(rig("tutor").switcher.active.name, "tutor");
    assert.equal(rig("gone").switcher.active.name, "default");
  });

  test("unknown names, the profile in use, and next() going round", async () => {
    const r = rig();
    const unknown = await r.switcher.switchTo("nobody", "a test");
    assert.match(!unknown.ok ? unknown.reason : "", /no agent profile is named 'nobody'; the profiles are default, tutor/);
    const same = await r.switcher.switchTo("default", "a test");
    assert.deepEqual(same.ok && [same.already, r.made.length], [true, 1]);
    const next = r.switcher.next("a triple press");
    await settle();
    r.made[1]!.emit(READY);
    assert.equal((await next).ok, true);
    assert.equal(r.switcher.active.name, "tutor");
    const round = r.switcher.next("a triple press");
    await settle();
    r.made[2]!.emit(READY);
    await round;
    assert.equal(r.switcher.active.name, "default");
  });
});
