// Work-arounds for rp2040js 1.4.1 defects that stop MicroPython's rp2 port
// (each found running the official firmware; see docs/emulator.md).

// 1. Flash writes. The SSI (the QSPI flash controller) is a stub in
//    rp2040js (upstream issue #157), so the boot ROM's flash_range_erase
//    and flash_range_program do nothing and every file operation fails
//    with ENODEV. Their entries in the ROM's function table are replaced by
//    a BKPT; the breakpoint handler does the erase (bytes to 0xFF) or the
//    program (NOR flash can only clear bits: old AND new) on the flash
//    array and returns to the caller. pico-sdk's own wrappers (XIP exit
//    and re-entry) still run around them, as on the chip.
const BKPT_ERASE = 0xe0;
const BKPT_PROGRAM = 0xe1;

function romCode(a, b) {
  return a.charCodeAt(0) | (b.charCodeAt(0) << 8);
}

function rom16(rom, addr) {
  const word = rom[addr >>> 2];
  return addr & 2 ? word >>> 16 : word & 0xffff;
}

function setRom16(rom, addr, value) {
  const i = addr >>> 2;
  rom[i] = addr & 2 ? (rom[i] & 0xffff) | (value << 16) : (rom[i] & 0xffff0000) | value;
}

// The ROM's function table: (code, address) halfword pairs from the
// pointer at 0x14, ended by a zero code (RP2040 datasheet 2.8.3).
export function romFunction(rom, code) {
  for (let p = rom16(rom, 0x14); ; p += 4) {
    const c = rom16(rom, p);
    if (c === 0) return null;
    if (c === code) return rom16(rom, p + 2);
  }
}

export function patchFlashRom(mcu, onWrite) {
  const rom = mcu.bootrom;
  const erase = romFunction(rom, romCode('R', 'E'));
  const program = romFunction(rom, romCode('R', 'P'));
  if (erase === null || program === null) throw new Error('boot ROM has no flash_range_erase/program');
  setRom16(rom, erase & ~1, 0xbe00 | BKPT_ERASE);
  setRom16(rom, program & ~1, 0xbe00 | BKPT_PROGRAM);
  const { core, flash } = mcu;
  mcu.onBreak = (code) => {
    const r = core.registers;
    if (code === BKPT_ERASE) {
      const [off, count] = [r[0], r[1]];
      flash.fill(0xff, off, Math.min(off + count, flash.length));
    } else if (code === BKPT_PROGRAM) {
      const [off, src, count] = [r[0], r[1], r[2]];
      for (let i = 0; i < count && off + i < flash.length; i++) {
        flash[off + i] &= mcu.readUint8(src + i);
      }
    } else {
      throw new Error(`breakpoint ${code} at 0x${(core.PC - 2).toString(16)}: the firmware hit a BKPT`);
    }
    onWrite();
    core.PC = r[14] & ~1; // return to the caller (LR), as the ROM function would
  };
}

// 3. UART TX interrupt. rp2040js's checkInterrupts() raises the TX
//    interrupt every time it runs, even right after the firmware cleared
//    it; MicroPython's UART driver enables that interrupt, so the first
//    machine.UART() pins the CPU in its handler forever. Here TX is raised
//    only when a byte is written (the emulated TX FIFO empties at once) and
//    stays clear after the firmware clears it.
const UARTDR = 0x0;
const UARTTXINTR = 1 << 5;

export function fixUart(mcu) {
  for (const uart of mcu.uart) {
    uart.checkInterrupts = function checkInterrupts() {
      this.rp2040.setInterrupt(this.irq, !!(this.interruptStatus & this.interruptMask));
    };
    const write = uart.writeUint32.bind(uart);
    uart.writeUint32 = (offset, value) => {
      write(offset, value);
      if (offset === UARTDR) {
        uart.interruptStatus |= UARTTXINTR;
        uart.checkInterrupts();
      }
    };
  }
}
