// UF2 images (https://github.com/microsoft/uf2): 512-byte blocks, each
// carrying up to 476 bytes for one flash address. Only what a Pico's
// BOOTSEL drive would write is written: the blocks' payloads.

const MAGIC_START0 = 0x0a324655;
const MAGIC_START1 = 0x9e5d5157;
const MAGIC_END = 0x0ab16f30;
const FLAG_NOT_MAIN_FLASH = 0x1;
const FLASH_BASE = 0x10000000;

// Write the image's payloads into `flash` (a Uint8Array of the chip's
// flash, offset 0 = XIP address 0x10000000). Throws on a malformed image.
export function loadUf2(image, flash) {
  if (image.length === 0 || image.length % 512 !== 0) {
    throw new Error(`not a UF2 image: ${image.length} bytes is not a whole number of 512-byte blocks`);
  }
  const view = new DataView(image.buffer, image.byteOffset, image.length);
  let blocks = 0;
  for (let off = 0; off < image.length; off += 512) {
    const m0 = view.getUint32(off, true);
    const m1 = view.getUint32(off + 4, true);
    const end = view.getUint32(off + 508, true);
    if (m0 !== MAGIC_START0 || m1 !== MAGIC_START1 || end !== MAGIC_END) {
      throw new Error(`not a UF2 image: bad magic in block ${off / 512}`);
    }
    const flags = view.getUint32(off + 8, true);
    if (flags & FLAG_NOT_MAIN_FLASH) continue;
    const addr = view.getUint32(off + 12, true);
    const size = view.getUint32(off + 16, true);
    const at = addr - FLASH_BASE;
    if (size > 476 || at < 0 || at + size > flash.length) {
      throw new Error(`UF2 block ${off / 512} writes 0x${addr.toString(16)}+${size}, outside the flash`);
    }
    flash.set(image.subarray(off + 32, off + 32 + size), at);
    blocks += 1;
  }
  return blocks;
}
