/**
 * An arecord command line for node-record-lpcm16. The package's own arecord
 * recorder cannot set the period: arecord's default (125 ms periods) delivers
 * audio in bursts and holds back the end of an utterance at key release. The
 * package loads a recorder by path, so this module is passed as `recorder`.
 */
interface RecorderOptions {
  device?: string;
  sampleRate: number;
  channels: number;
  format?: string;
  periodUs?: number;
  bufferUs?: number;
}

export = function arecordRecorder(options: RecorderOptions): { cmd: string; args: string[] } {
  const args = [
    "-q",
    "-r", String(options.sampleRate),
    "-c", String(options.channels),
    "-f", options.format ?? "S16_LE",
    "-t", "raw",
    `--period-time=${options.periodUs ?? 20000}`,
    `--buffer-time=${options.bufferUs ?? 200000}`,
    "-",
  ];
  if (options.device) args.unshift("-D", options.device);
  return { cmd: "arecord", args };
};
