/** Counts the writes client sockets to `port` hand to the OS (a test's server would read them all at once anyway). */
import net from "node:net";
import type { TestContext } from "node:test";

export function countWrites(t: TestContext, port: number): { readonly n: number } {
  const counter = { n: 0 };
  const proto = net.Socket.prototype as unknown as Record<"_write" | "_writev", (this: net.Socket, ...a: unknown[]) => void>;
  for (const method of ["_write", "_writev"] as const) {
    const real = proto[method];
    t.mock.method(proto, method, function (this: net.Socket, ...args: unknown[]) {
      if (this.remotePort === port) counter.n++;
      return real.apply(this, args);
    });
  }
  return counter;
}
