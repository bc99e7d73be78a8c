// Stand-ins for the browser's WebSocket, location and timers, so stream.js and watched.js run
// under node: each socket the page opens is kept, a test plays the server's side on it, and
// time passes only when the test says so (a small clock of our own, not node's mock timers,
// whose options changed between the node versions the tests run on).

export class FakeSocket {
  static opened = [];

  constructor(url) {
    this.url = url;
    this.closedWith = null;
    FakeSocket.opened.push(this);
  }

  /** The server's side: open, send frames (objects are sent as JSON), close with a code. */
  open() {
    this.onopen?.();
  }

  send(frame) {
    this.onmessage?.({ data: typeof frame === "string" ? frame : JSON.stringify(frame) });
  }

  drop(code) {
    this.onclose?.({ code });
  }

  close(code) {
    this.closedWith = code;
  }
}

/** setTimeout and clearTimeout on a clock that moves only by `tick(ms)`. */
export class FakeClock {
  constructor() {
    this.now = 0;
    this.timers = new Set();
  }

  setTimeout = (callback, ms = 0) => {
    const timer = { at: this.now + Math.max(0, ms), callback };
    this.timers.add(timer);
    return timer;
  };

  clearTimeout = (timer) => {
    this.timers.delete(timer);
  };

  /** Let `ms` pass, running each timer that falls due, in order. */
  tick(ms) {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers.delete(due);
      this.now = due.at;
      due.callback();
    }
    this.now = end;
  }
}

/**
 * Install the fakes on globalThis for test `t` (undone after it); returns the list of
 * sockets the page opens and the clock.
 */
export function installFakes(t) {
  FakeSocket.opened = [];
  const clock = new FakeClock();
  const names = ["WebSocket", "window", "setTimeout", "clearTimeout"];
  const saved = Object.fromEntries(names.map((name) => [name, globalThis[name]]));
  Object.assign(globalThis, {
    WebSocket: FakeSocket,
    window: { location: { protocol: "https:", host: "gradwatch.example" } },
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
  });
  t.after(() => Object.assign(globalThis, saved));
  return { sockets: FakeSocket.opened, clock };
}
