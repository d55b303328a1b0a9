/** `talkbox version`: what to quote in a bug report. */
import path from "node:path";

export function packageVersion(): string {
  // dist/src/cli/version.js → the package root, in a checkout and in an installed package alike.
  return (require(path.resolve(__dirname, "../../../package.json")) as { version: string }).version;
}

export function versionText(): string {
  return `talkbox ${packageVersion()} (node ${process.version}, ${process.platform}/${process.arch})`;
}
