// A stand-in for the browser's WebSocket and location, so stream.js and watched.js run under
// node: each socket the page opens is kept, and a test plays the server's side on it.

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

/** Install the fakes on globalThis for one test; returns the list of opened sockets. */
export function installFakes(t) {
  FakeSocket.opened = [];
  const saved = { WebSocket: globalThis.WebSocket, window: globalThis.window };
  globalThis.WebSocket = FakeSocket;
  globalThis.window = { location: { protocol: "https:", host: "gradwatch.example" } };
  t.after(() => Object.assign(globalThis, saved));
  t.mock.timers.enable({ apis: ["setTimeout"] });
  return FakeSocket.opened;
}
