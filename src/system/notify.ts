/**
 * systemd's notification protocol (sd_notify(3)): one datagram of KEY=VALUE lines per message,
 * sent to the AF_UNIX socket $NOTIFY_SOCKET names. Node has no unix datagram sockets, so the
 * unix-dgram addon sends them, from this very process: with NotifyAccess=main systemd drops
 * messages from any other PID, which rules out helpers such as systemd-notify or socat.
 */
import os from "node:os";
import type { UnixDgramError, UnixDgramSocket } from "unix-dgram";
import type { Logger } from "../log/logger";

export type Notification = Readonly<Record<string, string>>;

/** A datagram's text. A value is one line: a newline in it would start another assignment. */
export function formatNotification(fields: Notification): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${value.replace(/[\r\n]+/g, " ")}`)
    .join("\n");
}

export interface Notifier {
  /** False when nothing is sent: no $NOTIFY_SOCKET, or one this process cannot reach. */
  readonly enabled: boolean;
  notify(fields: Notification): void;
  close(): void;
}

const disabled: Notifier = { enabled: false, notify: () => {}, close: () => {} };

function errnoName(err: UnixDgramError): string {
  if (err.code === 1) return "the socket's queue is full";
  const name = Object.entries(os.constants.errno).find(([, n]) => n === -err.code)?.[0];
  return name ?? String(err.code);
}

/**
 * Opens the notification socket; without one (not started by systemd, or Type= other than
 * notify) every call is a no-op. Failures to send are warned about once and never thrown:
 * losing a status line must not stop the device.
 */
export function openNotifier(socketPath: string | undefined, log: Logger): Notifier {
  if (!socketPath) return disabled;
  if (socketPath.startsWith("@")) {
    // unix-dgram addresses sockets by NUL-terminated path, so the abstract namespace is out of reach.
    log.warn(`NOTIFY_SOCKET is an abstract socket (${socketPath}), which talkbox cannot send to; readiness and watchdog notifications are off`);
    return disabled;
  }
  let socket: UnixDgramSocket;
  try {
    // Loaded only under systemd, so a machine where the addon did not build still runs talkbox by hand.
    const { createSocket } = require("unix-dgram") as typeof import("unix-dgram");
    socket = createSocket("unix_dgram");
  } catch (err) {
    log.warn(
      { err: (err as Error).message },
      "cannot open a unix datagram socket for systemd notifications (is the unix-dgram module built? talkbox doctor says; re-run the installer to rebuild it); readiness and watchdog notifications are off",
    );
    return disabled;
  }

  let warned = false;
  const failed = (err: UnixDgramError): void => {
    const reason = errnoName(err);
    if (warned) {
      log.debug({ reason }, "systemd notification not sent");
      return;
    }
    warned = true;
    log.warn(`cannot notify systemd through ${socketPath} (${reason}); a watchdog may restart talkbox. Further failures are logged at debug level`);
  };
  socket.on("error", failed);
  let open = true;

  return {
    enabled: true,
    notify(fields) {
      if (!open) return;
      const buf = Buffer.from(formatNotification(fields), "utf8");
      socket.send(buf, 0, buf.length, socketPath, (err) => {
        if (err) failed(err);
      });
    },
    close() {
      if (!open) return;
      open = false;
      try {
        socket.close();
      } catch (err) {
        log.debug({ err: (err as Error).message }, "closing the systemd notification socket failed");
      }
    },
  };
}
