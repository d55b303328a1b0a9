/**
 * What went wrong opening a serial device, told so that someone at the device
 * can fix it. serialport's native binding reports open failures as message text
 * only (no `code`), e.g. "Error: No such file or directory, cannot open /dev/ttyUSB0",
 * "Error: Permission denied, cannot open /dev/ttyUSB0",
 * "Error Resource temporarily unavailable Cannot lock port".
 */
export type OpenProblem = "missing" | "permission" | "busy" | "other";

export function classifyOpenError(err: Error & { code?: unknown }): OpenProblem {
  const code = typeof err.code === "string" ? err.code : "";
  const msg = err.message;
  if (code === "ENOENT" || code === "ENODEV" || code === "ENXIO" || /No such file or directory|No such device/i.test(msg)) return "missing";
  if (code === "EACCES" || code === "EPERM" || /Permission denied|Operation not permitted/i.test(msg)) return "permission";
  if (code === "EBUSY" || /Cannot lock port|Resource busy|Device or resource busy/i.test(msg)) return "busy";
  return "other";
}

/** A log line for an open failure of `label` (e.g. "serial panel") at `path`. */
export function openProblemMessage(label: string, path: string, problem: OpenProblem, err: Error): string {
  switch (problem) {
    case "missing":
      return `${label} ${path} not found; waiting for it (is it plugged in? stable names are in /dev/serial/by-id/)`;
    case "permission":
      return `${label} ${path}: permission denied. EACCES: add the talkbox user to the dialout group (sudo usermod -aG dialout talkbox), then restart talkbox`;
    case "busy":
      return `${label} ${path} is in use by another program (a serial console, ModemManager or a second talkbox?); close it, talkbox keeps retrying`;
    case "other":
      return `${label} ${path} cannot be opened (${err.message}); retrying`;
  }
}
