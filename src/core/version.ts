/** The package's version, for `talkbox version`, the panel handshake and bug reports. */
import path from "node:path";

export function packageVersion(): string {
  try {
    // dist/src/core/version.js → the package root, in a checkout and in an installed package alike.
    return (require(path.resolve(__dirname, "../../../package.json")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}
