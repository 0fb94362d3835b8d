// Keep's emulated Raspberry Pi Pico: the official MicroPython rp2 firmware
// running in rp2040js, its USB serial console served on TCP.
//
//   node runner.mjs --uf2 FW.uf2 --bootrom ROM.bin --flash FLASH.bin
//        [--listen 127.0.0.1:0] [--ctl 127.0.0.1:0] [--tap 127.0.0.1:0]
//        [--wiring JSON] [--nor NOR.bin]
//
// Prints one JSON line on stdout once its sockets listen:
//   {"console": PORT, "ctl": PORT, "tap": PORT, "pid": PID}
// console: the USB serial console (one host at a time); ctl: the control
// channel (control.mjs); tap: a read-only copy of everything the board prints.
// then runs until SIGTERM/SIGINT or the control channel's `quit`.
//
// This file owns the chip's life (power-on; reset by the watchdog,
// machine.reset() or the control channel; the flash kept in FLASH.bin) and
// the pacing of emulated time. The console is console.mjs, the rig around
// the chip world.mjs, the control channel control.mjs, and the rp2040js
// defects worked around fixes.mjs (each with its reason).
//
// Time: busy code runs at the emulator's speed, in cycles of a 125 MHz
// clock; while the core sleeps (WFI/WFE) emulated time passes no faster
// than wall time. So emulated time never runs ahead of the wall clock: a
// host deadline counted in board time is never shorter than the same one
// counted on the wall, and code that only computes gives the same figures
// on an idle or a loaded PC.

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConsoleLogger, LogLevel, Simulator } from 'rp2040js';
import { Console } from './console.mjs';
import { Control } from './control.mjs';
import { fixUart, patchFlashRom } from './fixes.mjs';
import { loadUf2 } from './uf2.mjs';
import { World } from './world.mjs';

const FLASH_BYTES = 2 * 1024 * 1024; // the Pico's W25Q16JV
const NS_PER_CYCLE = 8; // 125 MHz
const BATCH = 10000; // instructions between looks at the sleep flag
const SLICE_MS = 20; // wall time the emulator runs before sockets get a turn
const WATCHDOG = 0x40058; // the watchdog's peripheral index in rp2040js
const MAX_SLEEP_MS = 10; // a sleeping core is looked at this often

function parseArgs(argv) {
  const args = { listen: '127.0.0.1:0', ctl: '127.0.0.1:0', tap: '127.0.0.1:0', wiring: '{}', nor: '' };
  for (let i = 0; i < argv.length; i += 2) {
    const a = argv[i];
    if (!a.startsWith('--') || !(a.slice(2) in { ...args, uf2: 1, bootrom: 1, flash: 1 })) {
      throw new Error(`unknown argument ${a}`);
    }
    if (argv[i + 1] === undefined) throw new Error(`${a} needs a value`);
    args[a.slice(2)] = argv[i + 1];
  }
  for (const need of ['uf2', 'bootrom', 'flash']) {
    if (!args[need]) throw new Error(`--${need} is required`);
  }
  return args;
}

function hostPort(spec) {
  const i = spec.lastIndexOf(':');
  return { host: spec.slice(0, i) || '127.0.0.1', port: Number(spec.slice(i + 1)) };
}

function nowNs() {
  return Number(process.hrtime.bigint());
}

export class Board {
  constructor({ uf2, bootrom, flashPath, wiring, norPath }) {
    this.bootrom = bootrom;
    this.flashPath = flashPath;
    this.flash = new Uint8Array(FLASH_BYTES).fill(0xff);
    if (fs.existsSync(flashPath)) this.flash.set(fs.readFileSync(flashPath).subarray(0, FLASH_BYTES));
    // Flashing a UF2 writes only the blocks it carries: the filesystem
    // behind the firmware survives, as on a real Pico.
    loadUf2(uf2, this.flash);
    this.flashDirty = true;
    this.world = new World(wiring, { norPath: norPath || null });
    this.console = new Console();
    this.control = new Control(this);
    this.boots = 0;
    this.resetReason = 0; // the watchdog's REASON, carried into the next chip
    this.scratch = null; // the watchdog's scratch registers, likewise
    this.timer = null;
    this.running = false;
  }

  // A new chip: power-on, or the reset that follows a watchdog, a
  // machine.reset() or the RUN pin. Flash and the rig outlive it.
  powerOn() {
    const sim = new Simulator();
    const mcu = sim.rp2040;
    // Only errors, and on stderr: stdout carries the one JSON line. (The
    // firmware's soft reset reads two SIO addresses rp2040js lacks: harmless.)
    mcu.logger = new ConsoleLogger(LogLevel.Error, false);
    mcu.loadBootrom(this.bootrom);
    mcu.flash.set(this.flash); // loadBootrom() erased the new chip's flash
    this.flash = mcu.flash; // one array from now on: the chip programs it in place
    patchFlashRom(mcu, () => { this.flashDirty = true; });
    fixUart(mcu);
    const wd = mcu.peripherals[WATCHDOG];
    if (this.scratch) wd.scratchData.set(this.scratch);
    wd.reason = this.resetReason;
    wd.onWatchdogTrigger = () => {
      // Stop its timer first: a fired watchdog left running re-arms itself
      // at zero delay and would hold the clock in one tick forever.
      wd.timer.enable = false;
      wd.alarm.enable = false;
      this.pendingReset = { watchdog: true };
    };
    this.world.attach(mcu);
    this.console.attach(mcu);
    mcu.core.PC = 0x10000000; // boot2 from XIP, as the boot ROM would jump
    this.sim = sim;
    this.mcu = mcu;
    this.boots += 1;
    this.idleMark = null;
    this.pendingReset = null;
  }

  reset({ watchdog }) {
    const wd = this.mcu.peripherals[WATCHDOG];
    this.resetReason = watchdog ? wd.reason || 1 : 0;
    this.scratch = watchdog ? Uint32Array.from(wd.scratchData) : null;
    this.saveFlash();
    this.powerOn();
    this.control.chipReset();
    this.kick();
  }

  saveFlash() {
    if (this.world.nor) this.world.nor.save();
    if (!this.flashDirty) return;
    const tmp = this.flashPath + '.tmp';
    fs.writeFileSync(tmp, this.flash);
    fs.renameSync(tmp, this.flashPath);
    this.flashDirty = false;
  }

  get nanos() {
    return this.sim.clock.nanos;
  }

  start() {
    this.powerOn();
    this.running = true;
    this.kick();
  }

  stop() {
    this.running = false;
    this.cancel();
    this.saveFlash();
  }

  cancel() {
    if (this.timer) {
      clearTimeout(this.timer);
      clearImmediate(this.timer);
    }
    this.timer = null;
  }

  // Run now (host bytes arrived, a control request): don't sleep out a wait.
  kick() {
    if (!this.running) return;
    this.cancel();
    this.timer = setImmediate(() => this.run());
  }

  run() {
    this.timer = null;
    if (!this.running) return;
    const { core } = this.mcu;
    const clock = this.sim.clock;
    const end = nowNs() + SLICE_MS * 1e6;
    let sleepMs = -1;
    for (;;) {
      if (!core.waiting) {
        this.idleMark = null;
        for (let i = 0; i < BATCH && !core.waiting && !this.pendingReset; i++) {
          clock.tick(core.executeInstruction() * NS_PER_CYCLE);
        }
      } else {
        // Asleep: emulated time follows the wall clock up to the next alarm.
        const t = nowNs();
        if (this.idleMark === null) this.idleMark = t;
        const toAlarm = clock.nextAlarm ? clock.nanosToNextAlarm : Infinity;
        const credit = t - this.idleMark;
        if (credit >= toAlarm) {
          clock.tick(toAlarm);
          this.idleMark += toAlarm;
        } else {
          clock.tick(credit);
          this.idleMark = t;
          sleepMs = Math.min(MAX_SLEEP_MS, (toAlarm - credit) / 1e6);
        }
      }
      if (this.pendingReset) {
        this.reset(this.pendingReset);
        return;
      }
      if (sleepMs >= 0 || nowNs() > end) break;
    }
    this.control.flush();
    this.timer = sleepMs >= 0 ? setTimeout(() => this.run(), sleepMs) : setImmediate(() => this.run());
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const rom = fs.readFileSync(args.bootrom);
  const board = new Board({
    uf2: fs.readFileSync(args.uf2),
    bootrom: new Uint32Array(rom.buffer.slice(rom.byteOffset, rom.byteOffset + rom.length)),
    flashPath: args.flash,
    wiring: JSON.parse(args.wiring),
    norPath: args.nor,
  });
  const consoleServer = net.createServer((sock) => board.console.connect(sock, () => board.kick()));
  const ctlServer = net.createServer((sock) => {
    board.control.connect(sock);
    sock.on('data', () => board.kick());
  });
  const listen = (srv, spec) => new Promise((resolve, reject) => {
    const { host, port } = hostPort(spec);
    srv.once('error', reject);
    srv.listen(port, host, () => resolve(srv.address().port));
  });
  const tapServer = net.createServer((sock) => board.console.tap(sock));
  const consolePort = await listen(consoleServer, args.listen);
  const ctlPort = await listen(ctlServer, args.ctl);
  const tapPort = await listen(tapServer, args.tap);
  const quit = () => {
    board.stop();
    process.exit(0);
  };
  board.control.onQuit = quit;
  process.on('SIGTERM', quit);
  process.on('SIGINT', quit);
  // The host that started us is gone (its end of our stdin closed): stop,
  // so no emulator outlives the test or command that ran it.
  process.stdin.on('end', quit);
  process.stdin.resume();
  board.start();
  process.stdout.write(JSON.stringify({ console: consolePort, ctl: ctlPort, tap: tapPort, pid: process.pid }) + '\n');
  // The flash file follows the chip's writes within a second, so even a
  // SIGKILL loses at most the last second of them.
  setInterval(() => board.saveFlash(), 1000).unref();
}

if (path.resolve(process.argv[1] || '') === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`keep pico emulator: ${err.message}\n`);
    process.exit(2);
  });
}
