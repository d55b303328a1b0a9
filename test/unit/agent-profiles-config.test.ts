/**
 * `agents:` in the config (issue 17): what a profile takes from `agent:` and what it must say
 * itself, the one wire format every profile's backend takes, and the errors that name the
 * profile. Real files through loadConfig.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { loadConfig, maskSecrets } from "../../src/config/load";
import { configError } from "../support/config-error";
import { profilesOf } from "../../src/app/agents/profiles";
import { AgentFactory } from "../../src/app/agents/factory";
import { silentLogger } from "../../src/log/logger";
import { realClock } from "../../src/core/clock";
import { noConversations } from "../../src/core/conversations";

const CANARY = "tok-CANARY-profile-77a1";
const OTHER = "tok-OTHER-profile-3c9e";
const root = fs.mkdtempSync(path.join(os.tmpdir(), "talkbox-profiles-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;

function load(body: unknown) {
  const dir = path.join(root, `case-${n++}`);
  fs.mkdirSync(dir);
  const file = path.join(dir, "talkbox.yaml");
  fs.writeFileSync(file, stringify(body));
  fs.chmodSync(file, 0o600);
  return loadConfig({ path: file, env: {}, cwd: dir });
}

const assistant = { token: CANARY, url: "wss://ws.coze.cn/v1/chat", coze: { bot_id: "7350000000000000001", voice_id: "7426720361733046281" }, connect_timeout_ms: 4000 };

describe("agent profiles in the config", () => {
  test("a profile of the same backend takes url, token, link keys and the section's keys it does not set; not the display keys", () => {
    const { config } = load({ agent: { ...assistant, display_name: "Assistant", intro: "Hello." }, agents: { kid: { coze: { bot_id: "7350000000000000002" } } } });
    const kid = config.agents.kid!;
    assert.equal(kid.backend, "coze");
    assert.equal(kid.url, "wss://ws.coze.cn/v1/chat");
    assert.equal(kid.token, CANARY);
    assert.equal(kid.connect_timeout_ms, 4000);
    assert.deepEqual([kid.coze.bot_id, kid.coze.voice_id], ["7350000000000000002", "7426720361733046281"]);
    assert.equal(kid.display_name, undefined);
    assert.equal(kid.intro, undefined);
    const profiles = profilesOf(config);
    assert.deepEqual(
      profiles.map((p) => [p.name, p.title, p.descriptor.name]),
      [
        ["default", "Assistant", "coze"],
        ["kid", "kid", "coze"],
      ],
    );
  });

  test("a profile of another backend takes neither url nor token: it needs its own token, and its backend's URL is the default", () => {
    const err = configError(() => load({ agent: assistant, agents: { tutor: { backend: "realtime", realtime: { flavour: "openai" } } } }), CANARY);
    assert.ok(
      err.issues.some((i) => i.startsWith("agents.tutor.token: ") && i.includes("set agents.tutor.token")),
      err.issues.join("\n"),
    );
    const { config, secrets } = load({ agent: assistant, agents: { tutor: { backend: "realtime", token: OTHER, realtime: { flavour: "openai" } } } });
    assert.equal(config.agents.tutor!.url, "wss://api.openai.com/v1/realtime?model=gpt-4o-realtime-preview");
    assert.equal(config.agents.tutor!.token, OTHER);
    // Both tokens are secrets: scrubbed from logs and masked in `config check`.
    assert.deepEqual(secrets.sort(), [CANARY, OTHER].sort());
    const masked = JSON.stringify(maskSecrets(config));
    assert.ok(!masked.includes(CANARY) && !masked.includes(OTHER));
  });

  test("url: emulator is followed by every profile (the simulator)", () => {
    const { config } = load({ agent: { url: "emulator" }, agents: { tutor: { backend: "realtime", led_color: "#00ff00" } } });
    assert.equal(config.agents.tutor!.url, "emulator");
    assert.deepEqual(config.agents.tutor!.led_color, [0, 255, 0]);
  });

  test("one wire format for all: the first profile's defaults that every backend takes (Coze's 24 kHz replies would not reach the gateway)", () => {
    const { config } = load({ agent: { url: "emulator" }, agents: { tutor: { backend: "realtime", realtime: { flavour: "volcengine" } } } });
    assert.deepEqual([config.audio.uplink_rate, config.audio.downlink_rate], [16000, 16000]);
    const alone = load({ agent: { url: "emulator" } });
    assert.deepEqual([alone.config.audio.uplink_rate, alone.config.audio.downlink_rate], [16000, 24000]);
    // Set by hand to what one of them cannot take: said, naming the profile.
    const err = configError(() => load({ agent: { url: "emulator" }, audio: { downlink_rate: 24000 }, agents: { tutor: { backend: "realtime", realtime: { flavour: "volcengine" } } } }));
    assert.ok(err.issues.some((i) => i.startsWith("audio: ") && i.includes("agent profile tutor")), err.issues.join("\n"));
  });

  test("names: default is the agent: section's, a name is a lower-case word, and a profile's keys are checked like agent:'s", () => {
    const reserved = configError(() => load({ agent: { url: "emulator" }, agents: { default: {} } }));
    assert.ok(reserved.issues.some((i) => i.includes("the agent: section is the profile default")), reserved.issues.join("\n"));
    const bad = configError(() => load({ agent: { url: "emulator" }, agents: { "My Tutor": {} } }));
    assert.ok(bad.issues.some((i) => i.includes("lower-case")), bad.issues.join("\n"));
    const typo = configError(() => load({ agent: { url: "emulator" }, agents: { kid: { intro: "" , colour: "red" } } }));
    assert.ok(typo.issues.some((i) => i.startsWith("agents.kid")), typo.issues.join("\n"));
  });

  test("a profile's voiceapi.api_key is its token, as agent.voiceapi.api_key is agent.token", () => {
    const { config, secrets } = load({ agent: { url: "emulator" }, agents: { desk: { backend: "voiceapi", url: "wss://voice.example.com/ws", voiceapi: { api_key: OTHER } } } });
    assert.equal(config.agents.desk!.token, OTHER);
    assert.ok(secrets.includes(OTHER));
  });

  test("a reload gives every profile its new token and credential keys for its next link, the rest stays", async () => {
    const body = (token: string, bot: string) => ({ agent: assistant, agents: { tutor: { backend: "realtime", token, realtime: { flavour: "openai", instructions: "Teach." } }, kid: { coze: { bot_id: bot } } } });
    const before = load(body(OTHER, "7350000000000000002"));
    const agents = await AgentFactory.open(before.config, { log: silentLogger(), clock: realClock, tools: [], conversations: () => noConversations });
    const after = load(body("tok-NEW-9d2f", "7350000000000000003"));
    agents.reload(after.config);
    const tutor = agents.profile("tutor")!;
    assert.equal(tutor.agent.token, "tok-NEW-9d2f");
    assert.equal(tutor.agent.realtime.instructions, "Teach.");
    assert.equal(agents.profile("kid")!.agent.coze.bot_id, "7350000000000000003");
    assert.equal(agents.profile("default")!.agent.token, CANARY);
    await agents.close();
  });
});
