/**
 * A Prometheus text-format file as the official Python client's parser reads it
 * (prometheus_client.parser, Debian's python3-prometheus-client; scripts/setup.sh installs it):
 * each sample as name, labels and value. The parser throws on a malformed line, and the test with it.
 */
import { execFileSync } from "node:child_process";

export interface PromSample {
  family: string;
  type: string;
  name: string;
  labels: Record<string, string>;
  value: number;
}

const READ = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    for s in f.samples:
        out.append({"family": f.name, "type": f.type, "name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
`;

export function parsePrometheus(text: string): PromSample[] {
  // Debian's python, not a pyenv one on the PATH: the package is installed for it.
  const out = execFileSync("/usr/bin/python3", ["-c", READ], { input: text, encoding: "utf8" });
  return (JSON.parse(out) as (Omit<PromSample, "value"> & { value: number | string })[]).map((s) => ({ ...s, value: Number(s.value) }));
}

/** The value of the sample `name` with exactly these labels (undefined: none). */
export function sample(samples: PromSample[], name: string, labels: Record<string, string>): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  return samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
}
