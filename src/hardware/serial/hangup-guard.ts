/**
 * serialport's unix read (bindings-cpp unix-read.js) retries a read that
 * returns 0 bytes, forever. On Linux a tty read returns 0 only once the device
 * has hung up (a USB adapter unplugged, a pty whose other side closed) — the fd
 * is non-blocking, so "no data yet" is EAGAIN — and when the hangup happens
 * while no poll is pending, the retry loop spins at full CPU and the port never
 * reports the disconnect (bindings-cpp issue #162, fix proposed in PR #164).
 * This replaces an open port's read with the same loop that treats 0 bytes as
 * the hangup it is, so the stream closes with a disconnect like any other.
 */
import { read } from "node:fs";
import { promisify } from "node:util";

const readAsync = promisify(read);

type ReadResult = { buffer: Buffer; bytesRead: number };

/** The parts of bindings-cpp's LinuxPortBinding / DarwinPortBinding the read uses (all public there). */
interface UnixPortBinding {
  fd: number | null;
  readonly isOpen: boolean;
  poller: { once(event: "readable", cb: (err: Error | null) => void): unknown };
  read(buffer: Buffer, offset: number, length: number): Promise<ReadResult>;
}

function isUnixPort(binding: unknown): binding is UnixPortBinding {
  if (typeof binding !== "object" || binding === null) return false;
  const b = binding as Partial<UnixPortBinding>;
  return typeof b.fd === "number" && typeof b.read === "function" && typeof b.poller?.once === "function";
}

/** Patches an open port binding (SerialPort#port); false when it is not a unix one (Windows). */
export function guardHangup(binding: unknown): boolean {
  if (!isUnixPort(binding)) return false;
  binding.read = (buffer, offset, length) => readUntilData(binding, buffer, offset, length);
  return true;
}

async function readUntilData(port: UnixPortBinding, buffer: Buffer, offset: number, length: number): Promise<ReadResult> {
  for (;;) {
    if (!port.isOpen || port.fd === null) throw notOpen();
    try {
      const { bytesRead } = await readAsync(port.fd, buffer, offset, length, null);
      if (bytesRead === 0) throw Object.assign(new Error("the serial device hung up"), { disconnect: true });
      return { buffer, bytesRead };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EAGAIN" && code !== "EWOULDBLOCK" && code !== "EINTR") throw err;
      // The port may have been closed during the read; polling a destroyed poller crashes the process.
      if (!port.isOpen) throw notOpen();
      await new Promise<void>((resolve, reject) => port.poller.once("readable", (e) => (e ? reject(e) : resolve())));
    }
  }
}

/** `canceled` tells the stream this is a close, not a disconnect (as bindings-cpp's BindingsError does). */
function notOpen(): Error {
  return Object.assign(new Error("Port is not open"), { canceled: true });
}
