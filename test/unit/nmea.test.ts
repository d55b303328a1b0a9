import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { nmeaChecksum, parseNmea } from "../../src/hardware/serial/nmea";

/** Builds a sentence with its checksum, computed here independently of the parser. */
function sentence(body: string): string {
  let x = 0;
  for (const ch of body) x ^= ch.charCodeAt(0);
  return `$${body}*${x.toString(16).toUpperCase().padStart(2, "0")}`;
}

function close(actual: number, expected: number, eps = 1e-9): void {
  assert.ok(Math.abs(actual - expected) < eps, `${actual} is not ${expected}`);
}

describe("NMEA checksums", () => {
  test("match published example sentences", () => {
    // The widely published RMC/GGA examples (checksums as printed there).
    assert.equal(nmeaChecksum("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"), "6A");
    assert.equal(nmeaChecksum("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"), "47");
  });

  test("a wrong, missing or malformed checksum makes the sentence invalid", () => {
    const good = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A";
    assert.equal(parseNmea(good).kind, "position");
    assert.equal(parseNmea(good.replace("*6A", "*6a")).kind, "position", "hex digits are case-insensitive");
    const wrong = parseNmea(good.replace("*6A", "*6B"));
    assert.deepEqual(wrong, { kind: "invalid", reason: "checksum 6B does not match 6A" });
    assert.equal(parseNmea(good.replace("*6A", "")).kind, "invalid");
    assert.equal(parseNmea(good.replace("*6A", "*6")).kind, "invalid");
    // One flipped character in the body.
    assert.equal(parseNmea(good.replace("4807.038", "4807.039")).kind, "invalid");
    assert.equal(parseNmea("hello").kind, "invalid");
    assert.equal(parseNmea("").kind, "invalid");
  });
});

describe("NMEA positions", () => {
  test("RMC with status A: decimal degrees, north/east positive", () => {
    const r = parseNmea(`${sentence("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W")}\r\n`);
    assert.equal(r.kind, "position");
    if (r.kind !== "position") return;
    assert.equal(r.sentence, "RMC");
    assert.equal(r.talker, "GP");
    assert.equal(r.utcTime, "123519");
    close(r.latitude, 48 + 7.038 / 60);
    close(r.longitude, 11 + 31 / 60);
  });

  test("GNRMC and GNGGA from a multi-GNSS receiver (Beijing, as in Coze's example)", () => {
    const rmc = parseNmea(sentence("GNRMC,083559.00,A,3958.804308,N,11618.352098,E,0.004,77.52,091124,,,A,V"));
    const gga = parseNmea(sentence("GNGGA,083600.00,3958.804308,N,11618.352098,E,1,12,0.71,52.3,M,-8.5,M,,"));
    for (const r of [rmc, gga]) {
      assert.equal(r.kind, "position");
      if (r.kind !== "position") return;
      assert.equal(r.talker, "GN");
      close(r.latitude, 39.9800718);
      close(r.longitude, 116.30586830);
    }
    assert.equal(rmc.kind === "position" && rmc.sentence, "RMC");
    assert.equal(gga.kind === "position" && gga.sentence, "GGA");
  });

  test("south and west are negative", () => {
    // Sydney Opera House and Rio de Janeiro; and west only / south only.
    const syd = parseNmea(sentence("GPGGA,010203.00,3351.4020,S,15112.9080,E,1,09,0.9,10.0,M,22.0,M,,"));
    const rio = parseNmea(sentence("GPRMC,010203.00,A,2254.4100,S,04312.6000,W,0.0,0.0,010124,,,A"));
    const nyc = parseNmea(sentence("GPRMC,010203.00,A,4042.7680,N,07400.3600,W,0.0,0.0,010124,,,D"));
    assert.ok(syd.kind === "position" && rio.kind === "position" && nyc.kind === "position");
    close(syd.latitude, -(33 + 51.402 / 60));
    close(syd.longitude, 151 + 12.908 / 60);
    close(rio.latitude, -(22 + 54.41 / 60));
    close(rio.longitude, -(43 + 12.6 / 60));
    close(nyc.latitude, 40 + 42.768 / 60);
    close(nyc.longitude, -(74 + 0.36 / 60));
  });

  test("no fix: RMC status V, RMC mode N, GGA quality 0", () => {
    assert.deepEqual(parseNmea(sentence("GPRMC,123519,V,,,,,,,230394,,,N")), { kind: "no-fix", sentence: "RMC", talker: "GP" });
    // Some receivers keep the last position in a V sentence: still no fix.
    assert.equal(parseNmea(sentence("GPRMC,123519,V,4807.038,N,01131.000,E,0.0,0.0,230394,,,N")).kind, "no-fix");
    assert.equal(parseNmea(sentence("GNRMC,123519,A,4807.038,N,01131.000,E,0.0,0.0,230394,,,N")).kind, "no-fix");
    assert.deepEqual(parseNmea(sentence("GNGGA,123519,,,,,0,00,99.99,,,,,,")), { kind: "no-fix", sentence: "GGA", talker: "GN" });
    assert.equal(parseNmea(sentence("GPGGA,123519,4807.038,N,01131.000,E,0,00,,,M,,M,,")).kind, "no-fix");
  });

  test("other sentences are ignored, not errors", () => {
    assert.deepEqual(parseNmea(sentence("GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00")), { kind: "ignored", type: "GPGSV" });
    assert.deepEqual(parseNmea(sentence("GNVTG,,T,,M,0.004,N,0.008,K,A")), { kind: "ignored", type: "GNVTG" });
    assert.deepEqual(parseNmea(sentence("PUBX,00,081350.00,4717.113210,N")), { kind: "ignored", type: "PUBX" });
  });

  test("bad coordinates and hemispheres are invalid", () => {
    const bad = [
      "GPRMC,123519,A,4867.038,N,01131.000,E,0,0,230394,,", // 67 minutes
      "GPRMC,123519,A,9107.038,N,01131.000,E,0,0,230394,,", // 91 degrees latitude
      "GPRMC,123519,A,4807.038,X,01131.000,E,0,0,230394,,", // hemisphere X
      "GPRMC,123519,A,4807.038,N,1131.000,E,0,0,230394,,", // longitude with two degree digits
      "GPRMC,123519,A,,N,01131.000,E,0,0,230394,,", // empty latitude
      "GPGGA,123519,4807.038,N,18107.038,E,1,08,0.9,545.4,M,46.9,M,,", // 181 degrees longitude
      "GPGGA,123519,4807.038,N,01131.000,E,x,08,0.9,545.4,M,46.9,M,,", // quality not a digit
      "GPRMC,123519,A,4807.038", // too few fields
    ];
    for (const body of bad) assert.equal(parseNmea(sentence(body)).kind, "invalid", body);
  });
});
