/** sysexits(3) EX_CONFIG: lets systemd and scripts tell a bad config apart from a crash. */
export const EX_CONFIG = 78;

/**
 * A config or board-profile problem the user must fix. `source` names the file (or what was
 * searched, or the keys at fault); each issue names a key path and what is expected. Messages
 * never quote input values, so a token can't leak through them. In `core` because a backend
 * refuses a setting with it too, and a backend knows nothing of the config file.
 */
export class ConfigError extends Error {
  readonly exitCode = EX_CONFIG;
  readonly issues: string[];

  constructor(source: string, issues: string[]) {
    super(issues.length === 1 ? `${source}: ${issues[0]}` : `${source}:\n${issues.map((i) => `  - ${i}`).join("\n")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}
