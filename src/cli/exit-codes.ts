/** The CLI's exit statuses; scripts and systemd (RestartPreventExitStatus=78) rely on them. */
import { EX_CONFIG } from "../config/errors";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** `talkbox say`: the daemon dropped the text (mode 3 while busy, or the queue full). */
export const EXIT_DROPPED = 3;
export { EX_CONFIG as EXIT_CONFIG };
/** 128 + SIGINT: a run cut short by Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

export const EXIT_MEANINGS: ReadonlyArray<readonly [number, string]> = [
  [EXIT_OK, "success"],
  [EXIT_FAILURE, "runtime failure (daemon unreachable, a check failed, a crash)"],
  [EXIT_USAGE, "usage error (unknown command or option, bad option value)"],
  [EXIT_DROPPED, "dropped: the daemon did not speak the text (say --mode 3 while busy)"],
  [EX_CONFIG, "configuration error: fix the config file; systemd does not restart on it"],
  [EXIT_INTERRUPTED, "interrupted by Ctrl-C (talk)"],
];
