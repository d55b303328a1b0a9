/**
 * The part of NMEA 0183 a position needs: RMC and GGA sentences from any GNSS
 * talker (GP, GN, GL, GA, GB, BD, GQ), checksum required. Other sentences are
 * recognised as well-formed and ignored.
 */

export type PositionSentence = "RMC" | "GGA";

export type NmeaParse =
  /** A valid position in decimal degrees; south and west are negative. */
  | { kind: "position"; sentence: PositionSentence; talker: string; latitude: number; longitude: number; utcTime: string }
  /** A well-formed RMC/GGA that says the receiver has no fix (RMC status V, GGA quality 0). */
  | { kind: "no-fix"; sentence: PositionSentence; talker: string }
  /** A well-formed sentence of a type this parser does not use. */
  | { kind: "ignored"; type: string }
  | { kind: "invalid"; reason: string };

const TALKERS = new Set(["GP", "GN", "GL", "GA", "GB", "BD", "GQ"]);

/** XOR of the characters between `$` and `*`, as two upper-case hex digits. */
export function nmeaChecksum(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i) & 0xff;
  return sum.toString(16).toUpperCase().padStart(2, "0");
}

/** Parses one sentence (line terminator optional). Never throws. */
export function parseNmea(line: string): NmeaParse {
  const text = line.trim();
  const m = /^\$([^*$]+)\*([0-9A-Fa-f]{2})$/.exec(text);
  if (!m) return { kind: "invalid", reason: text.startsWith("$") ? "no *hh checksum" : "not an NMEA sentence" };
  const body = m[1] as string;
  const given = (m[2] as string).toUpperCase();
  const expected = nmeaChecksum(body);
  if (given !== expected) return { kind: "invalid", reason: `checksum ${given} does not match ${expected}` };
  const fields = body.split(",");
  const address = fields[0] ?? "";
  if (!/^[A-Z0-9]{3,6}$/.test(address)) return { kind: "invalid", reason: "bad address field" };
  const talker = address.slice(0, 2);
  const type = address.slice(2);
  if ((type !== "RMC" && type !== "GGA") || !TALKERS.has(talker)) return { kind: "ignored", type: address };
  return type === "RMC" ? parseRmc(talker, fields) : parseGga(talker, fields);
}

// $--RMC,hhmmss.ss,A,ddmm.mm,N,dddmm.mm,E,speed,course,ddmmyy,magvar,E[,mode[,navstatus]]
function parseRmc(talker: string, f: string[]): NmeaParse {
  if (f.length < 10) return { kind: "invalid", reason: "RMC has too few fields" };
  const status = f[2];
  // NMEA 2.3+ mode indicator: N means "data not valid" even when a receiver says A.
  const mode = f[12];
  if (status !== "A" || mode === "N") return { kind: "no-fix", sentence: "RMC", talker };
  return position("RMC", talker, f[1], f[3], f[4], f[5], f[6]);
}

// $--GGA,hhmmss.ss,ddmm.mm,N,dddmm.mm,E,quality,sats,hdop,alt,M,sep,M,age,station
function parseGga(talker: string, f: string[]): NmeaParse {
  if (f.length < 7) return { kind: "invalid", reason: "GGA has too few fields" };
  const quality = f[6] ?? "";
  if (!/^\d$/.test(quality)) return { kind: "invalid", reason: "GGA fix quality is not a digit" };
  if (quality === "0") return { kind: "no-fix", sentence: "GGA", talker };
  return position("GGA", talker, f[1], f[2], f[3], f[4], f[5]);
}

function position(
  sentence: PositionSentence,
  talker: string,
  time: string | undefined,
  lat: string | undefined,
  ns: string | undefined,
  lon: string | undefined,
  ew: string | undefined,
): NmeaParse {
  const latitude = coordinate(lat, ns, 2, "N", "S", 90);
  const longitude = coordinate(lon, ew, 3, "E", "W", 180);
  if (latitude === null) return { kind: "invalid", reason: `${sentence} has a bad latitude` };
  if (longitude === null) return { kind: "invalid", reason: `${sentence} has a bad longitude` };
  return { kind: "position", sentence, talker, latitude, longitude, utcTime: time ?? "" };
}

/** `ddmm.mmmm` / `dddmm.mmmm` plus hemisphere → signed decimal degrees, or null. */
function coordinate(value: string | undefined, hemi: string | undefined, degDigits: 2 | 3, pos: string, neg: string, limit: number): number | null {
  if (value === undefined || (hemi !== pos && hemi !== neg)) return null;
  const m = (degDigits === 2 ? /^(\d{2})(\d{2}(?:\.\d+)?)$/ : /^(\d{3})(\d{2}(?:\.\d+)?)$/).exec(value);
  if (!m) return null;
  const degrees = Number(m[1]);
  const minutes = Number(m[2]);
  if (minutes >= 60) return null;
  const abs = degrees + minutes / 60;
  if (abs > limit) return null;
  return hemi === neg ? -abs : abs;
}
