import fs from "node:fs";
import { LineCounter, parseDocument } from "yaml";
import { ConfigError } from "./errors.js";

/**
 * Reads one YAML document; an empty file reads as `{}`. Errors carry line and column but not
 * yaml's source excerpt, which could print a token sitting on the offending line.
 */
export function readYaml(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return `YAML syntax error at line ${line}, column ${col}: ${e.message}`;
      }),
    );
  }
  try {
    return doc.toJS() ?? {};
  } catch (err) {
    // e.g. an alias to an anchor that was never defined, or alias bombs past yaml's limit
    throw new ConfigError(file, [`YAML error: ${(err as Error).message}`]);
  }
}
