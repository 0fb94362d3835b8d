// The Pico's USB serial console (CDC ACM), served on a TCP socket.
//
// 2. USB CDC, host to device (an rp2040js 1.4.1 defect worked around
//    here): its USBCDC keeps a 512-byte FIFO that silently drops bytes when
//    full, and answers every armed OUT endpoint at once, with an empty
//    packet when there is nothing to send. Here host bytes wait in an
//    unbounded queue, and an OUT transfer is completed only when bytes
//    exist: mpremote's raw REPL, raw paste, Ctrl-C, Ctrl-D and large
//    `fs cp` then work unmodified.
//
// One host connection at a time, like a serial port; a new connection
// replaces the old one. Board output with no host connected is dropped
// and counted, as a terminal that is not open misses it; taps (tap())
// see it all the same.

import { USBCDC } from 'rp2040js';

// Output kept for a tap that connects after the board started (the host
// tools connect one right after the emulator says where, and the boot
// banner may already be out).
const HISTORY_BYTES = 256 * 1024;

export class Console {
  constructor() {
    this.sock = null;
    this.queue = []; // host -> board: Buffers not yet taken by the board
    this.pending = null; // an armed OUT transfer waiting for bytes: {endpoint, size}
    this.droppedToHost = 0;
    this.bytesToHost = 0;
    this.bytesFromHost = 0;
    this.taps = new Set(); // read-only listeners: every byte the board prints
    this.history = []; // the last HISTORY_BYTES of output, for a tap that joins late
    this.historyBytes = 0;
  }

  // A new chip: enumerate its USB device. Bytes in flight die with the old chip.
  attach(mcu) {
    this.queue = [];
    this.pending = null;
    this.connected = false;
    const cdc = new USBCDC(mcu.usbCtrl);
    this.usb = mcu.usbCtrl;
    this.cdc = cdc;
    cdc.onDeviceConnected = () => { this.connected = true; };
    cdc.onSerialData = (data) => this.fromBoard(data);
    this.usb.onEndpointRead = (endpoint, size) => {
      if (endpoint !== cdc.outEndpoint) return;
      this.pending = { endpoint, size };
      this.feed();
    };
  }

  feed() {
    if (this.pending === null || this.queue.length === 0) return;
    const { endpoint, size } = this.pending;
    const out = new Uint8Array(size);
    let n = 0;
    while (n < size && this.queue.length) {
      const head = this.queue[0];
      const take = Math.min(size - n, head.length);
      out.set(head.subarray(0, take), n);
      n += take;
      if (take === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(take);
    }
    this.pending = null;
    this.bytesFromHost += n;
    this.usb.endpointReadDone(endpoint, out.subarray(0, n));
  }

  fromBoard(data) {
    const copy = Buffer.from(data);
    for (const tap of this.taps) tap.write(copy);
    this.history.push(copy);
    this.historyBytes += copy.length;
    while (this.historyBytes - this.history[0].length > HISTORY_BYTES) {
      this.historyBytes -= this.history.shift().length;
    }
    if (this.sock === null) {
      this.droppedToHost += data.length;
      return;
    }
    this.bytesToHost += data.length;
    this.sock.write(Buffer.from(data));
  }

  // A tap sees the board's output whether or not a host holds the console
  // (the host tools' log of what the board printed); what it sends is ignored.
  tap(sock) {
    for (const chunk of this.history) sock.write(chunk);
    this.taps.add(sock);
    const gone = () => this.taps.delete(sock);
    sock.on('close', gone);
    sock.on('error', gone);
  }

  connect(sock, onInput) {
    if (this.sock !== null) this.sock.destroy();
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on('data', (chunk) => {
      if (this.sock !== sock) return;
      this.queue.push(new Uint8Array(chunk));
      this.feed();
      onInput();
    });
    const gone = () => {
      if (this.sock === sock) this.sock = null;
    };
    sock.on('close', gone);
    sock.on('error', gone);
  }
}
