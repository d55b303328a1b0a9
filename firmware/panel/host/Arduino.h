// Just enough of the Arduino API to run panel.ino on a Linux PC, for testing it
// against the daemon over a pty (test/unit/serial-firmware.test.ts). Not for devices.
#pragma once
#include <stddef.h>
#include <stdint.h>

#define HIGH 1
#define LOW 0
#define INPUT 0
#define OUTPUT 1
#define INPUT_PULLUP 2
#define LED_BUILTIN 13

class __FlashStringHelper;
#define F(s) (reinterpret_cast<const __FlashStringHelper *>(s))

class HostSerial {
 public:
  void begin(unsigned long baud);
  int available();
  int read();
  size_t print(const char *s);
  size_t print(const __FlashStringHelper *s);
};
extern HostSerial Serial;

unsigned long millis();
void pinMode(uint8_t pin, uint8_t mode);
int digitalRead(uint8_t pin);
void digitalWrite(uint8_t pin, uint8_t value);
void analogWrite(uint8_t pin, int value);

void setup();
void loop();
