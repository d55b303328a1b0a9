#!/usr/bin/env node
/**
 * Writes the built-in earcons, firmware/sounds/*.wav (16 kHz mono 16-bit): a rising pair of
 * notes for "listening", a falling pair for "stopped listening", two low buzzes for an error.
 * Kept so the sounds can be changed and made again: node scripts/make-sounds.js
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const RATE = 16000;

/** Notes one after another: [hz (several = a chord), ms, amplitude 0..1]; hz 0 is a pause. */
function notes(list) {
  const parts = list.map(([hz, ms, amp]) => {
    const n = Math.round((RATE * ms) / 1000);
    const out = Buffer.alloc(n * 2);
    const fade = Math.min(Math.round(RATE * 0.008), n >> 1);
    const tones = Array.isArray(hz) ? hz : [hz];
    for (let i = 0; i < n; i++) {
      if (tones[0] === 0) break;
      // Raised-cosine edges: no click at either end.
      const edge = i < fade ? i / fade : i >= n - fade ? (n - 1 - i) / fade : 1;
      const env = 0.5 - 0.5 * Math.cos(Math.PI * edge);
      let v = 0;
      for (const f of tones) v += Math.sin((2 * Math.PI * f * i) / RATE) / tones.length;
      out.writeInt16LE(Math.round(32767 * amp * env * v), i * 2);
    }
    return out;
  });
  return Buffer.concat(parts);
}

function wav(pcm) {
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "ascii");
  h.writeUInt32LE(36 + pcm.length, 4);
  h.write("WAVE", 8, "ascii");
  h.write("fmt ", 12, "ascii");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write("data", 36, "ascii");
  h.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([h, pcm]);
}

const dir = path.join(__dirname, "..", "firmware", "sounds");
fs.mkdirSync(dir, { recursive: true });
const sounds = {
  "listen-start.wav": notes([[660, 70, 0.3], [990, 80, 0.3]]),
  "listen-stop.wav": notes([[990, 70, 0.3], [660, 80, 0.3]]),
  "error.wav": notes([[[220, 233], 150, 0.35], [0, 80, 0], [[220, 233], 150, 0.35]]),
};
for (const [name, pcm] of Object.entries(sounds)) {
  fs.writeFileSync(path.join(dir, name), wav(pcm));
  console.log(`${name}: ${Math.round((pcm.length / 2 / RATE) * 1000)} ms`);
}
