// The world around the emulated Pico: the test rig's wiring (a GPIO
// jumper, a UART looped back, a NOR flash on SPI) and what the host does to
// it through the control channel (drive inputs, stick pins, add noise to a
// UART line, fail the flash). It outlives a chip reset, as a rig does:
// attach() wires it to each new chip.
//
// Pin levels the firmware reads (the input side of a pad), in priority:
//   stuck level (a fault) > its own output, when it drives one > the level
//   of the output wired to it > the host's drive > the pad's own pull
//   (up: 1, otherwise 0).

import { GPIOPinState } from 'rp2040js';
import { NorFlash } from './nor.mjs';

const NPINS = 30;
const HIST_LEN = 64; // output changes kept for pin_history (as hal.sim)
const TICKS_PERIOD = 1 << 30; // MicroPython's ticks_us() wraps here

// The RP2040's UART pin functions (datasheet 1.4.3, GPIO function F2):
// UART0 TX on 0/12/16/28, RX on 1/13/17/29; UART1 TX on 4/8/20/24, RX 5/9/21/25.
export class World {
  constructor(spec, { norPath = null } = {}) {
    this.spec = spec;
    this.drive = new Array(NPINS).fill(null);
    this.stuck = new Array(NPINS).fill(null);
    this.wireSrc = new Array(NPINS).fill(null);
    this.history = [];
    this.changes = 0; // output changes ever made
    this.events = []; // pending control-channel events
    this.uarts = [0, 1].map(() => ({ mode: 'open', noise: 0, kind: 'flip', rng: 1, hostTx: [] }));
    for (const [out, inp] of spec.gpio_loop || []) this.wireSrc[inp] = out;
    for (const id of spec.uart_loop || []) this.uarts[id].mode = 'loop';
    this.nor = null;
    const sf = spec.spi_flash;
    if (sf) {
      this.nor = new NorFlash({ jedecId: sf.jedec_id, path: norPath, nowUs: () => this.nowUs() });
      this.nor.bus = sf.bus;
      this.nor.cs = sf.cs;
    }
  }

  nowUs() {
    return this.mcu ? this.mcu.clock.micros : 0;
  }

  ticksUs() {
    return Math.floor(this.nowUs()) % TICKS_PERIOD;
  }

  attach(mcu) {
    this.mcu = mcu;
    this.lastOut = new Array(NPINS).fill(null);
    mcu.gpio.slice(0, NPINS).forEach((pin, p) => {
      pin.addListener((state) => this.pinChanged(p, state));
    });
    for (let p = 0; p < NPINS; p++) this.update(p);
    mcu.uart.forEach((uart, id) => {
      const line = this.uarts[id];
      line.queue = [];
      line.busy = false;
      line.alarm = mcu.clock.createAlarm(() => this.uartShift(id));
      uart.onByte = (b) => this.uartTx(id, b);
    });
    if (this.nor) this.nor.n = -1;
    mcu.spi.forEach((spi, bus) => {
      const dev = this.nor && this.nor.bus === bus ? this.nor : null;
      this.attachSpi(mcu, spi, dev);
    });
  }

  // 4. SPI timing (an rp2040js 1.4.1 defect worked around here): its SPI
  //    completes a byte the instant it is written, so the TX FIFO never
  //    fills and a DMA transfer (MicroPython uses two channels for 32 bytes
  //    or more) pushes every byte before the RX channel takes one: the
  //    8-byte RX FIFO overflows and the transfer never finishes. Here each
  //    byte takes its 8 bit times at the programmed SPI clock, as on the
  //    wire. MISO reads 0xFF where no device answers.
  attachSpi(mcu, spi, dev) {
    const pending = [];
    const alarm = mcu.clock.createAlarm(() => spi.completeTransmit(pending.shift()));
    spi.onTransmit = (v) => {
      pending.push(dev ? dev.xfer(v) : 0xff);
      const hz = spi.clockFrequency || 1e6;
      alarm.schedule(Math.max(1, Math.round(8e9 / hz)));
    };
  }

  // ---- pins ----------------------------------------------------------------
  level(p) {
    if (this.stuck[p] !== null) return this.stuck[p];
    const own = this.outLevel(p); // a pad reads back what it drives
    if (own !== null) return own;
    const src = this.wireSrc[p];
    if (src !== null) {
      const v = this.outLevel(src);
      if (v !== null) return v;
    }
    if (this.drive[p] !== null) return this.drive[p];
    const s = this.mcu.gpio[p].value;
    return s === GPIOPinState.InputPullUp ? 1 : 0;
  }

  // What an output drives onto its wire (a stuck output is stuck on the wire too).
  outLevel(p) {
    if (this.stuck[p] !== null) return this.stuck[p];
    const s = this.mcu.gpio[p].value;
    if (s === GPIOPinState.High) return 1;
    if (s === GPIOPinState.Low) return 0;
    return null;
  }

  update(p) {
    if (!this.mcu) return;
    this.mcu.gpio[p].setInputValue(!!this.level(p));
  }

  pinChanged(p, state) {
    const out = state === GPIOPinState.High ? 1 : state === GPIOPinState.Low ? 0 : null;
    if (out !== null && out !== this.lastOut[p]) {
      const t = this.ticksUs();
      this.history.push([p, out, t]);
      if (this.history.length > HIST_LEN) this.history.shift();
      this.changes += 1;
      this.events.push({ ev: 'pin', pin: p, level: out, t_us: t });
    }
    this.lastOut[p] = out;
    for (let q = 0; q < NPINS; q++) if (this.wireSrc[q] === p) this.update(q);
    this.update(p);
    if (this.nor && p === this.nor.cs) {
      if (out === 0) this.nor.select();
      else this.nor.deselect();
    }
  }

  pinInfo(p) {
    const s = this.mcu.gpio[p].value;
    const isOut = s === GPIOPinState.High || s === GPIOPinState.Low;
    return {
      level: isOut ? this.outLevel(p) : this.level(p), mode: isOut ? 'out' : 'in',
      driven: this.drive[p], stuck: this.stuck[p],
    };
  }

  setDrive(p, v) {
    this.drive[p] = v;
    this.update(p);
  }

  setStuck(p, v) {
    this.stuck[p] = v;
    this.update(p);
    for (let q = 0; q < NPINS; q++) if (this.wireSrc[q] === p) this.update(q);
  }

  setWire(src, dst) {
    this.wireSrc[dst] = src;
    this.update(dst);
  }

  // ---- uart lines -------------------------------------------------------------
  // A byte the firmware transmits reaches its line one character time later
  // (10 bits at the programmed baud rate), so a loopback behaves like a wire.
  uartTx(id, b) {
    const line = this.uarts[id];
    if (line.mode === 'host') {
      line.hostTx.push(b);
      return;
    }
    if (line.mode !== 'loop') return;
    line.queue.push(b);
    if (!line.busy) this.uartShift(id, true);
  }

  uartShift(id, start = false) {
    const line = this.uarts[id];
    const uart = this.mcu.uart[id];
    if (!start) {
      line.busy = false;
      const b = line.queue.shift();
      if (b !== undefined) this.uartRx(id, b);
    }
    if (line.queue.length && !line.busy) {
      line.busy = true;
      const baud = uart.baudRate || 115200;
      line.alarm.schedule(Math.round(10e9 / baud));
    }
  }

  // A byte arriving at the board's RX pin, through the line's noise.
  uartRx(id, b) {
    const line = this.uarts[id];
    const uart = this.mcu.uart[id];
    if (line.noise && this.random(line) < line.noise) {
      if (line.kind === 'insert') uart.feedByte(Math.floor(this.random(line) * 256));
      else b ^= 1 << Math.floor(this.random(line) * 8);
    }
    uart.feedByte(b);
  }

  // Bytes the host puts on the board's RX line, paced like a sender's.
  inject(id, bytes) {
    const line = this.uarts[id];
    line.queue.push(...bytes);
    if (!line.busy) this.uartShift(id, true);
    return bytes.length;
  }

  takeHostTx(id) {
    const line = this.uarts[id];
    const out = line.hostTx;
    line.hostTx = [];
    return out;
  }

  // xorshift32: seeded, so a noise campaign repeats exactly.
  random(line) {
    let x = line.rng || 1;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    line.rng = x >>> 0;
    return line.rng / 4294967296;
  }
}
