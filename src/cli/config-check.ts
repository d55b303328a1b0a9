/**
 * `talkbox config check`: validates the config and prints the effective one as YAML (a valid
 * config file itself), with every secret masked and the origin of each named in comments.
 */
import YAML from "yaml";
import { ConfigError } from "../config/errors";
import { describeSource, loadConfig, maskSecrets, type LoadedConfig } from "../config/load";
import { scrubber } from "../log/logger";
import { EXIT_CONFIG, EXIT_OK } from "./exit-codes";

export interface ConfigCheckOptions {
  config?: string;
  env?: NodeJS.ProcessEnv;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

export function configCheckCommand(opts: ConfigCheckOptions = {}): number {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = opts.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig({ ...(opts.config ? { path: opts.config } : {}), ...(opts.env ? { env: opts.env } : {}) });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(`invalid config: ${e.message}`);
    return EXIT_CONFIG;
  }
  // maskSecrets covers the token's own key; this catches a copy of it pasted anywhere else.
  const scrub = scrubber(loaded.secrets);
  const { board } = loaded;
  out("# talkbox config check: valid");
  out(`# file: ${loaded.file ?? "none (defaults and environment only)"}`);
  out(`# board: ${board.name} (${board.description})`);
  const tokenSource = loaded.secretSources["agent.token"];
  out(`# agent.token: ${tokenSource ? `from ${describeSource(tokenSource)}` : "not set"}`);
  for (const w of loaded.warnings) err(`warning: ${w}`);
  for (const line of YAML.stringify(maskSecrets(loaded.config)).trimEnd().split("\n")) out(scrub(line));
  return EXIT_OK;
}
