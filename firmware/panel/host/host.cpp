// Runs panel.ino on Linux: Serial is the tty or pty given as argv[1]; button pins
// are driven by lines on stdin ("press 2", "release 2"); the LED is reported on
// stdout as "rgb R G B" or "led 0|1" whenever its output changes.
// Build: g++ -std=c++11 -include Arduino.h -I firmware/panel/host -x c++ firmware/panel/panel.ino -x none firmware/panel/host/host.cpp
#include "Arduino.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

HostSerial Serial;

static int serialFd = -1;
static int pinLevel[64];
static int pwm[64];
static int lastRgb[3] = {-1, -1, -1};
static const auto started = std::chrono::steady_clock::now();

void HostSerial::begin(unsigned long) {}

int HostSerial::available() {
  struct pollfd p = {serialFd, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return 0;
  if (p.revents & (POLLHUP | POLLERR)) exit(3);  // the other end is gone
  return (p.revents & POLLIN) ? 1 : 0;
}

int HostSerial::read() {
  unsigned char c;
  return ::read(serialFd, &c, 1) == 1 ? c : -1;
}

size_t HostSerial::print(const char *s) {
  size_t n = strlen(s);
  if (write(serialFd, s, n) != (ssize_t)n) exit(3);  // the other end is gone
  return n;
}

size_t HostSerial::print(const __FlashStringHelper *s) { return print(reinterpret_cast<const char *>(s)); }

unsigned long millis() {
  return (unsigned long)std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
}

void pinMode(uint8_t pin, uint8_t mode) {
  if (mode == INPUT_PULLUP) pinLevel[pin] = HIGH;
}

int digitalRead(uint8_t pin) { return pinLevel[pin]; }

void digitalWrite(uint8_t pin, uint8_t value) {
  if (pwm[pin] == value) return;
  pwm[pin] = value;
  printf("led %d\n", value ? 1 : 0);
  fflush(stdout);
}

void analogWrite(uint8_t pin, int value) {
  pwm[pin] = value;
  int rgb[3] = {pwm[9], pwm[10], pwm[11]};
  if (memcmp(rgb, lastRgb, sizeof rgb) == 0) return;
  memcpy(lastRgb, rgb, sizeof rgb);
  printf("rgb %d %d %d\n", rgb[0], rgb[1], rgb[2]);
  fflush(stdout);
}

static void readControl() {
  static char buf[64];
  static size_t len = 0;
  struct pollfd p = {0, POLLIN, 0};
  while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
    char c;
    if (::read(0, &c, 1) != 1) exit(0);  // stdin closed: the test is done
    if (c != '\n') {
      if (len < sizeof buf - 1) buf[len++] = c;
      continue;
    }
    buf[len] = '\0';
    len = 0;
    int pin;
    if (sscanf(buf, "press %d", &pin) == 1 && pin >= 0 && pin < 64) pinLevel[pin] = LOW;
    if (sscanf(buf, "release %d", &pin) == 1 && pin >= 0 && pin < 64) pinLevel[pin] = HIGH;
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s /dev/ttyX\n", argv[0]);
    return 2;
  }
  serialFd = open(argv[1], O_RDWR | O_NOCTTY);
  if (serialFd < 0) {
    perror(argv[1]);
    return 1;
  }
  struct termios t;
  tcgetattr(serialFd, &t);
  cfmakeraw(&t);
  tcsetattr(serialFd, TCSANOW, &t);
  setup();
  for (;;) {
    readControl();
    loop();
    usleep(1000);
  }
}
