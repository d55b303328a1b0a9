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
