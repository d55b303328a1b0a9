/** Runs every check and prints pass/fail with the fix for each. Exit status 1 when anything fails. */
import { loadConfig } from "../config/load";
import { ConfigError } from "../config/errors";
import { agentChecks, audioChecks, deviceFileChecks, gpioChecks, healthChecks, type CheckResult } from "./checks";
import { nativeChecks } from "./natives";
import { scrubber } from "../log/logger";
import { secretsFromEnvironment } from "../config/secrets";

export async function doctorCommand(opts: { config?: string; out?: (line: string) => void; sysfs?: string }): Promise<number> {
  const write = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  // A server's refusal may quote the token back: every line goes through the scrubber.
  let scrub = scrubber(secretsFromEnvironment());
  const out = (line: string): void => write(scrub(line));
  const print = (r: CheckResult): void => {
    out(`${!r.ok ? "FAIL" : r.warn ? "WARN" : "PASS"}  ${r.name}: ${r.detail}`);
    if ((!r.ok || r.warn) && r.fix) out(`      fix: ${r.fix}`);
  };
  let loaded;
  try {
    loaded = loadConfig(opts.config ? { path: opts.config } : {});
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    print({ name: "config", ok: false, detail: err.message.replace(/\n/g, " "), fix: "correct the keys named above" });
    return 1;
  }
  scrub = scrubber([...secretsFromEnvironment(), ...loaded.secrets]);
  const results: CheckResult[] = [{ name: "config", ok: true, detail: `${loaded.file ?? "defaults"}, board ${loaded.board.name}` }];
  print(results[0]!);
  const groups: Array<() => Promise<CheckResult[]> | CheckResult[]> = [
    () => audioChecks(loaded),
    () => nativeChecks(loaded),
    () => gpioChecks(loaded, opts.sysfs),
    () => deviceFileChecks(loaded),
    () => healthChecks(loaded),
    async () => agentChecks(loaded),
  ];
  for (const g of groups) {
    for (const r of await g()) {
      results.push(r);
      print(r);
    }
  }
  const failed = results.filter((r) => !r.ok).length;
  out(failed === 0 ? "all checks passed" : `${failed} check${failed === 1 ? "" : "s"} failed`);
  return failed === 0 ? 0 : 1;
}
