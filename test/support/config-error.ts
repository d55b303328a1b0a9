import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/errors";

/** Runs fn, which must throw a ConfigError (exit code 78) that never contains `secret`. */
export function configError(fn: () => unknown, secret?: string): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.exitCode, 78);
    if (secret) assert.ok(!err.message.includes(secret) && !err.issues.some((i) => i.includes(secret)), "a secret leaked into an error");
    return err;
  }
  assert.fail("expected a ConfigError");
}
