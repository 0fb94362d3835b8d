// The emulated board's control channel: the same JSON-lines protocol as
// the unix board's (firmware/hal/sim/ctl.py, driven by the host's
// keep_host.simctl.SimControl), served by the emulator instead of the
// firmware, plus what only an emulator can say:
//   {"op": "clock"}  -> {"us": emulated microseconds since power-on,
//                        "boots": chip power-ons/resets so far}
//   {"op": "console"} -> console byte counters (and whether USB is up)
//   {"op": "cpu"}    -> the core's PC, LR and whether it sleeps
//   {"op": "quit"}   -> stop the emulator (the flash is saved)
// Every request gets one reply {"id", "ok": true, ...} or {"id", "ok":
// false, "error"}; events {"ev": "hello" | "pin" | "uart_tx"} come in
// between. A chip reset closes the connections, as the unix board's
// process restart does, so the host sees the reboot and reconnects.

const RESET_NAMES = ['unknown', 'pwron', 'hard', 'wdt', 'deepsleep', 'soft'];
const WD_REASON_TIMER = 1;
const WD_REASON_FORCE = 2;

export class Control {
  constructor(board) {
    this.board = board;
    this.clients = new Set();
    this.onQuit = null;
  }

  resetCause() {
    const r = this.board.resetReason;
    return r & (WD_REASON_TIMER | WD_REASON_FORCE) ? 'wdt' : 'pwron';
  }

  hello() {
    return {
      ev: 'hello', name: 'rp2040', npins: 30, reset_cause: this.resetCause(), culprit: 255,
      clock: 'emulated',
    };
  }

  connect(sock) {
    this.clients.add(sock);
    let buf = '';
    sock.setNoDelay(true);
    sock.on('data', (chunk) => {
      buf += chunk.toString('latin1');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim()) this.request(sock, line);
      }
    });
    const gone = () => this.clients.delete(sock);
    sock.on('close', gone);
    sock.on('error', gone);
    this.send(sock, this.hello());
  }

  send(sock, obj) {
    if (!sock.destroyed) sock.write(JSON.stringify(obj) + '\n');
  }

  // Pending world events (pin changes, host-mode UART TX) to every client.
  flush() {
    const { world } = this.board;
    const out = world.events;
    world.events = [];
    for (const [id, line] of world.uarts.entries()) {
      if (line.mode === 'host' && line.hostTx.length) {
        out.push({ ev: 'uart_tx', uart: id, data: Buffer.from(world.takeHostTx(id)).toString('hex') });
      }
    }
    if (!out.length) return;
    for (const sock of this.clients) for (const ev of out) this.send(sock, ev);
  }

  // A chip reset: drop every connection (the host reconnects and gets hello).
  chipReset() {
    for (const sock of this.clients) sock.destroy();
    this.clients.clear();
  }

  request(sock, line) {
    let rid = null;
    let rep;
    let then = null;
    try {
      const req = JSON.parse(line);
      rid = req.id ?? null;
      this.flush(); // events before the reply, in the order they happened
      rep = this.handle(req.op || '', req);
      then = rep._then || null;
      delete rep._then;
      rep.ok = true;
    } catch (err) {
      rep = { ok: false, error: `${err.name}: ${err.message}` };
    }
    rep.id = rid;
    this.send(sock, rep);
    if (then) setImmediate(then);
  }

  pin(r) {
    const p = r.pin;
    if (!Number.isInteger(p) || p < 0 || p >= 30) throw new RangeError('pin out of range');
    return p;
  }

  handle(op, r) {
    const { board } = this;
    const { world } = board;
    const level = r.level === null || r.level === undefined ? null : (r.level ? 1 : 0);
    switch (op) {
      case 'ping':
        return {};
      case 'clock':
        return { us: board.nanos / 1000, boots: board.boots };
      case 'cpu': // where the core is: for "the board hangs" questions
        return { pc: board.mcu.core.PC, lr: board.mcu.core.registers[14], waiting: board.mcu.core.waiting };
      case 'console':
        return {
          usb: board.console.connected, to_host: board.console.bytesToHost, from_host: board.console.bytesFromHost,
          dropped_no_host: board.console.droppedToHost,
        };
      case 'status':
        return {
          name: 'rp2040', npins: 30, ticks_ms: Math.floor(board.nanos / 1e6) % (1 << 30),
          reset_cause: this.resetCause(),
          uarts: world.uarts.map((l) => ({ mode: l.mode, noise: l.noise })),
          spi: world.nor ? [{ bus: world.nor.bus, cs: world.nor.cs, fault: world.nor.fault || 'ok' }] : [],
        };
      case 'pin_drive':
        world.setDrive(this.pin(r), level);
        return world.pinInfo(r.pin);
      case 'pin_read':
        return world.pinInfo(this.pin(r));
      case 'stuck':
        world.setStuck(this.pin(r), level);
        return world.pinInfo(r.pin);
      case 'pin_history': {
        const h = r.pin === undefined || r.pin === null ? world.history
          : world.history.filter((c) => c[0] === r.pin);
        return { changes: h, total: world.changes };
      }
      case 'wire':
        if (r.src !== null && r.src !== undefined) this.pin({ pin: r.src });
        world.setWire(r.src ?? null, this.pin({ pin: r.dst }));
        return { level: world.level(r.dst) };
      case 'uart_inject':
        return { n: world.inject(this.uart(r), Buffer.from(r.data, 'hex')) };
      case 'uart_noise': {
        const line = world.uarts[this.uart(r)];
        line.noise = Number(r.rate) || 0;
        line.kind = r.kind === 'insert' ? 'insert' : 'flip';
        if (r.seed !== undefined && r.seed !== null) line.rng = (r.seed >>> 0) || 1;
        return {};
      }
      case 'uart_mode': {
        const id = this.uart(r);
        if (!['loop', 'host', 'open'].includes(r.mode)) {
          throw new RangeError(`uart mode ${r.mode}: the emulated board has loop, host and open`);
        }
        world.uarts[id].mode = r.mode;
        return {};
      }
      case 'spi_fault': {
        const fault = r.fault ?? null;
        if (![null, 'dead', 'busy'].includes(fault)) throw new RangeError(`spi fault ${r.fault}`);
        this.nor(r).fault = fault;
        return {};
      }
      case 'spi_peek': {
        const n = r.n ?? 16;
        if (!(n > 0 && n <= 1024)) throw new RangeError('n must be 1..1024');
        return { data: Buffer.from(this.nor(r).peek(r.addr || 0, n)).toString('hex') };
      }
      case 'wdt': // as the watchdog would: REASON says TIMER, scratch registers kept
        return { _then: () => board.reset({ watchdog: true }) };
      case 'reset': // the RUN pin: a chip reset that reads back as power-on
        return { _then: () => board.reset({ watchdog: false }) };
      case 'quit':
        return { _then: () => this.onQuit && this.onQuit() };
      default:
        throw new Error(`unknown op ${op}`);
    }
  }

  uart(r) {
    const id = r.uart;
    if (id !== 0 && id !== 1) throw new RangeError('uart out of range (the RP2040 has 0 and 1)');
    return id;
  }

  nor(r) {
    const { nor } = this.board.world;
    if (!nor || nor.bus !== r.bus || nor.cs !== r.cs) {
      throw new RangeError(`no spi device on bus ${r.bus} cs ${r.cs}`);
    }
    return nor;
  }
}
