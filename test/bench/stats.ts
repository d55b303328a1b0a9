/** Percentile table for benchmarks (nearest-rank percentiles). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface Row {
  metric: string;
  unit: string;
  values: number[];
  note?: string;
}

export function table(rows: Row[]): string {
  const head = ["metric", "n", "p50", "p95", "p99", "max", "unit", "note"];
  const body = rows.map((r) => {
    const s = [...r.values].sort((a, b) => a - b);
    const f = (v: number): string => (Number.isNaN(v) ? "-" : v < 10 ? v.toFixed(3) : v.toFixed(1));
    return [r.metric, String(s.length), f(percentile(s, 50)), f(percentile(s, 95)), f(percentile(s, 99)), f(s.at(-1) ?? NaN), r.unit, r.note ?? ""];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

/** One metric measured on two clients, side by side. */
export interface PairRow {
  metric: string;
  unit: string;
  a: number[];
  b: number[];
  note?: string;
}

/** p50 / p95 of each client and the ratios a/b (below 1: a is lower). */
export function pairTable(names: [string, string], rows: PairRow[]): string {
  const head = ["metric", `${names[0]} p50 / p95`, `${names[1]} p50 / p95`, "ratio p50", "ratio p95", "n", "unit", "note"];
  const f = (v: number): string => (Number.isNaN(v) ? "-" : Math.abs(v) < 10 ? v.toFixed(3) : v.toFixed(1));
  const body = rows.map((r) => {
    const a = [...r.a].sort((x, y) => x - y);
    const b = [...r.b].sort((x, y) => x - y);
    const [a50, a95, b50, b95] = [percentile(a, 50), percentile(a, 95), percentile(b, 50), percentile(b, 95)];
    const ratio = (x: number, y: number): string => (y === 0 || Number.isNaN(x) || Number.isNaN(y) ? "-" : (x / y).toFixed(2));
    return [r.metric, `${f(a50)} / ${f(a95)}`, `${f(b50)} / ${f(b95)}`, ratio(a50, b50), ratio(a95, b95), `${a.length}/${b.length}`, r.unit, r.note ?? ""];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}
