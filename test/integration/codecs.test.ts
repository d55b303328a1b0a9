/**
 * Codec pairs end to end on the rig: the daemon talks to the emulator with the
 * configured uplink/downlink codecs; what the speaker played must be the agent's
 * audio within the codec's expected error.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { toMonoS16 } from "../../src/codec/pcm16";
import type { PcmFormat } from "../../src/core/pcm";
import type { TurnRecord } from "../../src/emulator/server";
import { daemonPlayback, startDevice, type DeviceOptions } from "../support/device";
import { bestLag, samples, snrDb } from "../support/signal";
import { resampleAll, speechLoop, toDevice } from "../support/speech";

interface Case {
  name: string;
  mic: PcmFormat;
  spk: PcmFormat;
  audio: Record<string, unknown>;
  /** Minimum SNR of the played reply against the agent's audio, in dB. */
  minSnr: number;
  why: string;
}

const mono16k: PcmFormat = { sampleRate: 16000, channels: 1, sampleFormat: "S16_LE" };
const hat48k: PcmFormat = { sampleRate: 48000, channels: 2, sampleFormat: "S32_LE" };

const cases: Case[] = [
  {
    name: "pcm up / pcm down",
    mic: mono16k,
    spk: mono16k,
    audio: { uplink_codec: "pcm", downlink_codec: "pcm" },
    minSnr: Infinity,
    why: "lossless: the played bytes are the agent's bytes",
  },
  {
    name: "opus up / opus down (16 kHz up, 24 kHz down)",
    mic: mono16k,
    spk: mono16k,
    audio: { uplink_codec: "opus", uplink_rate: 16000, downlink_codec: "opus", downlink_rate: 24000 },
    minSnr: 8,
    why: "one Opus pass on the reply measures 11–21 dB waveform SNR on speech (the opusscript fallback ~11); a broken or misaligned decode gives ≤ 1 dB",
  },
  {
    name: "g711a up / g711u down",
    mic: mono16k,
    spk: mono16k,
    audio: { uplink_codec: "g711a", uplink_rate: 8000, downlink_codec: "g711u", downlink_rate: 8000 },
    minSnr: 25,
    why: "µ-law quantisation gives ~37 dB on speech; the reference is resampled 8→16 kHz the same way the device does",
  },
  {
    name: "48 kHz S32_LE stereo hardware, pcm up / opus down",
    mic: hat48k,
    spk: hat48k,
    audio: { uplink_codec: "pcm", uplink_rate: 16000, downlink_codec: "opus", downlink_rate: 24000 },
    minSnr: 8,
    why: "as for Opus above; the 24→48 kHz resampling adds nothing measurable (≥ 45 dB)",
  },
];

async function runCase(c: Case, t: { diagnostic(msg: string): void }): Promise<void> {
  const frameBytes = c.mic.channels * (c.mic.sampleFormat === "S32_LE" ? 4 : 2);
  const micPcm = await toDevice(speechLoop(30), c.mic);
  const opts: DeviceOptions = {
    rig: { micPcm, micFrameBytes: frameBytes },
    mic: { rate: c.mic.sampleRate, channels: c.mic.channels, format: c.mic.sampleFormat! },
    spk: { rate: c.spk.sampleRate, channels: c.spk.channels, format: c.spk.sampleFormat! },
    config: { audio: c.audio },
  };
  const dev = await startDevice(opts);
  let turn: TurnRecord;
  try {
    await dev.press();
    await dev.appends(100);
    const done = dev.nextTurn();
    const from = dev.daemon.logs.length;
    await dev.release();
    turn = await done;
    assert.equal(turn.canceled, false);
    await dev.daemon.waitForState("idle", 15_000, from);
    assert.equal(await dev.stopDaemon(), 0);
    const played = toMonoS16(daemonPlayback(dev.rig).bytes, c.spk);
    const outputRate = (c.audio.downlink_codec === "pcm" ? c.spk.sampleRate : (c.audio.downlink_rate as number)) ?? c.spk.sampleRate;
    const reference = await resampleAll(turn.reply, outputRate, c.spk.sampleRate);
    if (c.minSnr === Infinity) {
      assert.ok(played.equals(turn.reply), "the played audio differs from the agent's");
      t.diagnostic(`${c.name}: played bytes identical to the agent's reply`);
      return;
    }
    const x = samples(reference);
    const y = samples(played);
    const rate = c.spk.sampleRate;
    const lag = bestLag(x.subarray(0, rate / 2), y, rate / 10);
    const snr = snrDb(x, y, lag, rate / 10, x.length - rate / 10);
    t.diagnostic(`${c.name}: played reply vs the agent's audio: ${snr.toFixed(1)} dB SNR at a ${((lag * 1000) / rate).toFixed(1)} ms codec delay (threshold ${c.minSnr} dB: ${c.why})`);
    assert.ok(snr >= c.minSnr, `${snr.toFixed(1)} dB < ${c.minSnr} dB`);
    assert.ok(Math.abs(played.length / 2 - reference.length / 2) < rate / 5, "the whole reply was played");
  } finally {
    await dev.stop().catch(() => {});
  }
}

describe("codecs end to end on the ALSA rig", { timeout: 120_000 }, () => {
  for (const c of cases) test(c.name, (t) => runCase(c, t));
});
