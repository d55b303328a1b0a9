/**
 * Rejects with a message naming what was awaited if `p` takes longer than `ms`: a failure
 * guard, not a sleep. A broken peer must fail the test (or the bench), not hang the run: a
 * timed-out test's body keeps awaiting and holds the process open.
 */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}
