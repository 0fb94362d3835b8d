// A 25-series SPI NOR flash (Winbond W25Q-like) on the emulated board's
// SPI bus: what the Pico test rig has on SPI0. The same command set and
// timing rules as the unix board's model (firmware/hal/sim/nor.py), with
// time taken from the emulated clock:
//   0x9F JEDEC id   0x05 status (bit 0 busy, bit 1 write enabled)
//   0x06/0x04 write enable/disable   0x03 read   0x0B fast read
//   0x02 page program (AND, wraps in its 256-byte page)
//   0x20 4 KB sector erase   0xC7/0x60 chip erase
// Program and erase need write-enable, then keep the chip busy for the
// part's typical time; while busy only 0x05 is answered.
// Faults (from the control channel): 'dead' (MISO reads 0xFF, commands
// ignored), 'busy' (answers, but stays busy forever).

import fs from 'node:fs';

const PAGE = 256;
const SECTOR = 4096;
// Typical W25Q32 times (datasheet "tPP" and "tSE"); chip erase here is
// four sector erases, as in the unix board's model, not the part's ~10 s.
export const PROG_US = 700;
export const ERASE_US = 30000;

export class NorFlash {
  constructor({ jedecId, path = null, nowUs }) {
    this.jedecId = jedecId;
    this.size = 1 << (jedecId & 0xff);
    this.path = path;
    this.nowUs = nowUs;
    this.mem = new Uint8Array(this.size).fill(0xff);
    if (path && fs.existsSync(path)) this.mem.set(fs.readFileSync(path).subarray(0, this.size));
    this.dirty = false;
    this.fault = null;
    this.wel = 0;
    this.busyUntil = 0;
    this.n = -1; // bytes clocked in this selection; -1: not selected
    this.cmd = 0;
    this.addr = 0;
    this.latch = null;
  }

  busy() {
    if (this.fault === 'busy') return 1;
    if (this.busyUntil && this.nowUs() >= this.busyUntil) {
      this.busyUntil = 0;
      this.wel = 0;
    }
    return this.busyUntil ? 1 : 0;
  }

  select() {
    this.n = 0;
  }

  xfer(b) {
    if (this.n < 0 || this.fault === 'dead') return 0xff;
    const n = this.n++;
    if (n === 0) {
      this.addr = 0;
      this.latch = null;
      this.cmd = b !== 0x05 && this.busy() ? -1 : b;
      return 0xff;
    }
    const c = this.cmd;
    if (c === 0x05) return this.busy() | (this.wel << 1);
    if (c === 0x9f) return n <= 3 ? (this.jedecId >> (8 * (3 - n))) & 0xff : 0;
    if (c === 0x03 || c === 0x0b || c === 0x02 || c === 0x20) {
      if (n <= 3) {
        this.addr = ((this.addr << 8) | b) & 0xffffff;
        return 0xff;
      }
      if (c === 0x03 || (c === 0x0b && n > 4)) {
        const a = this.addr % this.size;
        this.addr = a + 1;
        return this.mem[a];
      }
      if (c === 0x02) {
        if (this.latch === null) this.latch = new Uint8Array(PAGE).fill(0xff);
        this.latch[(this.addr + n - 4) & (PAGE - 1)] = b;
      }
    }
    return 0xff;
  }

  deselect() {
    const { n, cmd: c } = this;
    this.n = -1;
    if (n <= 0 || this.fault) return;
    if (c === 0x06) this.wel = 1;
    else if (c === 0x04) this.wel = 0;
    else if (!this.wel) return;
    else if (c === 0x02 && this.latch) {
      const page = (this.addr % this.size) & ~(PAGE - 1);
      for (let i = 0; i < PAGE; i++) this.mem[page + i] &= this.latch[i];
      this.startBusy(PROG_US);
    } else if (c === 0x20 && n === 4) {
      const start = (this.addr % this.size) & ~(SECTOR - 1);
      this.mem.fill(0xff, start, start + SECTOR);
      this.startBusy(ERASE_US);
    } else if ((c === 0xc7 || c === 0x60) && n === 1) {
      this.mem.fill(0xff);
      this.startBusy(ERASE_US * 4);
    }
  }

  startBusy(us) {
    this.busyUntil = this.nowUs() + us;
    this.dirty = true;
  }

  peek(addr, n) {
    return this.mem.subarray(addr, Math.min(addr + n, this.size));
  }

  save() {
    if (!this.path || !this.dirty) return;
    fs.writeFileSync(this.path, this.mem);
    this.dirty = false;
  }
}
