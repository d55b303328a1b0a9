// talkbox serial panel — reference firmware for the line protocol in PROTOCOL.md.
//
// Buttons on digital pins (to GND, internal pull-ups), one RGB LED or a single
// LED showing the device state. Builds with the Arduino core for AVR boards
// (Uno, Nano, Leonardo, Pro Micro) and for the RP2040 (Raspberry Pi Pico).
// Change the settings below, nothing else should need touching.

// ---- settings ---------------------------------------------------------------

#define FIRMWARE_NAME "talkbox-panel"
#define FIRMWARE_VERSION "1.0.0"
#define BAUD 115200

struct Button {
  const char *name;  // 1-32 of A-Z a-z 0-9 _ . -
  uint8_t pin;       // wired to GND when pressed
  bool pressed;      // debounced state
  bool raw;          // last raw reading
  unsigned long rawSince;
};

Button buttons[] = {
  { "talk", 2, false, false, 0 },
  { "passenger", 3, false, false, 0 },
};

const unsigned long DEBOUNCE_MS = 25;
// No line from the device for this long (it sends PING every 3 s): show "offline".
const unsigned long HOST_SILENCE_MS = 10000;

// LED: an RGB LED on three PWM pins, or a single LED (set LED_RGB to 0).
#define LED_RGB 1
#define LED_COMMON_ANODE 0   // 1 if the RGB LED's common leg goes to VCC
const uint8_t PIN_RED = 9, PIN_GREEN = 10, PIN_BLUE = 11;
const uint8_t PIN_SINGLE = LED_BUILTIN;

// ---- LED table ----------------------------------------------------------------

enum Pattern : uint8_t { SOLID, BLINK_SLOW, BLINK_FAST, PULSE };

struct LedState {
  const char *state;
  uint8_t r, g, b;
  Pattern pattern;
};

// The first entry is shown for unknown states: off.
const LedState LED_TABLE[] = {
  { "",           0,   0,   0,   SOLID },
  { "idle",       0,   40,  0,   SOLID },
  { "connecting", 0,   0,   255, BLINK_SLOW },
  { "listening",  0,   255, 0,   SOLID },
  { "thinking",   255, 160, 0,   PULSE },
  { "speaking",   0,   160, 255, SOLID },
  { "announcing", 128, 0,   255, SOLID },
  { "error",      255, 0,   0,   BLINK_FAST },
  { "offline",    255, 0,   0,   BLINK_SLOW },
  { "muted",      255, 0,   160, SOLID },
};
const uint8_t LED_COUNT = sizeof(LED_TABLE) / sizeof(LED_TABLE[0]);

// ---- state --------------------------------------------------------------------

const uint8_t BUTTON_COUNT = sizeof(buttons) / sizeof(buttons[0]);
const size_t MAX_LINE = 128;

char line[MAX_LINE + 2];  // the line, a '\r' that may end it, and a NUL
size_t lineLength = 0;
bool discarding = false;  // inside an overlong line: drop up to its newline

uint8_t ledIndex = 0;          // into LED_TABLE; shown until the device says otherwise
bool hostSeen = false;
unsigned long lastHostLineAt = 0;

// ---- helpers ------------------------------------------------------------------

static char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static bool sameWord(const char *a, const char *b) {
  while (*a && *b) {
    if (lower(*a++) != lower(*b++)) return false;
  }
  return *a == *b;
}

static bool isBlank(char c) {
  return c == ' ' || c == '\t';
}

// Splits `s` in place into at most `max` words; returns how many.
static uint8_t splitWords(char *s, char *words[], uint8_t max) {
  uint8_t n = 0;
  while (*s) {
    while (isBlank(*s)) *s++ = '\0';
    if (!*s) break;
    if (n == max) return max + 1;  // too many words
    words[n++] = s;
    while (*s && !isBlank(*s)) s++;
  }
  return n;
}

static void sendHello() {
  Serial.print(F("HELLO " FIRMWARE_NAME " " FIRMWARE_VERSION "\n"));
}

static void sendButton(const Button &b) {
  Serial.print(F("BTN "));
  Serial.print(b.name);
  Serial.print(b.pressed ? F(" DOWN\n") : F(" UP\n"));
}

// ---- LED ----------------------------------------------------------------------

// Index of `state` in LED_TABLE, or 0 (off) when it is not there.
static uint8_t findLed(const char *state) {
  for (uint8_t i = 1; i < LED_COUNT; i++) {
    if (sameWord(state, LED_TABLE[i].state)) return i;
  }
  return 0;
}

static void writeRgb(uint8_t r, uint8_t g, uint8_t b) {
#if LED_RGB
#if LED_COMMON_ANODE
  r = 255 - r; g = 255 - g; b = 255 - b;
#endif
  analogWrite(PIN_RED, r);
  analogWrite(PIN_GREEN, g);
  analogWrite(PIN_BLUE, b);
#else
  digitalWrite(PIN_SINGLE, (r | g | b) ? HIGH : LOW);
#endif
}

static void updateLed(unsigned long now) {
  bool silent = hostSeen && now - lastHostLineAt > HOST_SILENCE_MS;
  const LedState &s = LED_TABLE[silent ? findLed("offline") : ledIndex];
  uint16_t level = 255;  // brightness scale, 0-255
  switch (s.pattern) {
    case SOLID: break;
    case BLINK_SLOW: level = (now / 500) % 2 ? 0 : 255; break;
    case BLINK_FAST: level = (now / 125) % 2 ? 0 : 255; break;
    case PULSE: {
      uint16_t phase = (now / 4) % 512;  // about 2 s per breath
      level = phase < 256 ? phase : 511 - phase;
      break;
    }
  }
  writeRgb(s.r * level / 255, s.g * level / 255, s.b * level / 255);
}

// ---- protocol -------------------------------------------------------------------

static void handleLine(char *text) {
  char *words[4];
  uint8_t n = splitWords(text, words, 3);
  if (n == 0 || n > 3) return;  // empty, or not ours: ignore
  hostSeen = true;
  lastHostLineAt = millis();

  if (n == 1 && sameWord(words[0], "PING")) {
    Serial.print(F("PONG\n"));
  } else if (n == 2 && sameWord(words[0], "LED")) {
    ledIndex = findLed(words[1]);
  } else if (n == 3 && sameWord(words[0], "HELLO")) {
    // The device (re)opened the port: introduce ourselves and tell what is held.
    sendHello();
    for (uint8_t i = 0; i < BUTTON_COUNT; i++) {
      if (buttons[i].pressed) sendButton(buttons[i]);
    }
  }
  // Anything else: ignored, as the protocol says.
}

static void readSerial() {
  while (Serial.available() > 0) {
    char c = (char)Serial.read();
    if (c == '\n') {
      if (!discarding) {
        if (lineLength > 0 && line[lineLength - 1] == '\r') lineLength--;
        line[lineLength] = '\0';
        handleLine(line);
      }
      lineLength = 0;
      discarding = false;
    } else if (!discarding) {
      if (lineLength < MAX_LINE || (lineLength == MAX_LINE && c == '\r')) {
        line[lineLength++] = c;
      } else {
        discarding = true;
        lineLength = 0;
      }
    }
  }
}

static void scanButtons(unsigned long now) {
  for (uint8_t i = 0; i < BUTTON_COUNT; i++) {
    Button &b = buttons[i];
    bool down = digitalRead(b.pin) == LOW;
    if (down != b.raw) {
      b.raw = down;
      b.rawSince = now;
    } else if (down != b.pressed && now - b.rawSince >= DEBOUNCE_MS) {
      b.pressed = down;
      sendButton(b);
    }
  }
}

// ---- Arduino ------------------------------------------------------------------

void setup() {
  for (uint8_t i = 0; i < BUTTON_COUNT; i++) {
    pinMode(buttons[i].pin, INPUT_PULLUP);
    buttons[i].raw = buttons[i].pressed = digitalRead(buttons[i].pin) == LOW;
  }
#if LED_RGB
  pinMode(PIN_RED, OUTPUT);
  pinMode(PIN_GREEN, OUTPUT);
  pinMode(PIN_BLUE, OUTPUT);
#else
  pinMode(PIN_SINGLE, OUTPUT);
#endif
  ledIndex = findLed("connecting");  // until the device says otherwise
  Serial.begin(BAUD);
  sendHello();
  // A button already held at power-up counts as pressed.
  for (uint8_t i = 0; i < BUTTON_COUNT; i++) {
    if (buttons[i].pressed) sendButton(buttons[i]);
  }
}

void loop() {
  unsigned long now = millis();
  readSerial();
  scanButtons(now);
  updateLed(now);
}
