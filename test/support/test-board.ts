/**
 * A board profile for one test, written to its own boards directory: the rig's audio
 * (ALSA `default`, which the rig points at its card) and the test's buttons and serial ports
 * (a panel or a GPS on a pty). Start the daemon with `board: "car-test"` and
 * `env: { TALKBOX_BOARDS_DIR: <the returned dir> }`.
 */
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";

export function writeTestBoard(dir: string, board: { description: string; buttons: unknown[]; serial: Record<string, unknown> }): string {
  const boards = path.join(dir, "boards");
  fs.mkdirSync(boards);
  fs.writeFileSync(
    path.join(boards, "car-test.yaml"),
    YAML.stringify({
      name: "car-test",
      description: board.description,
      audio: { capture: { device: "default", sample_rate: 16000 }, playback: { device: "default", sample_rate: 16000 } },
      buttons: board.buttons,
      serial: board.serial,
    }),
  );
  return boards;
}
