// @ts-check
// One run's websocket (CONTRACT §5): reconnects with backoff until the run is final, and on
// every (re)connect the server's snapshot replaces what the page had, so nothing is doubled.

import { CLOSE_CODES } from "./contract.js";
import { isFinal } from "./util.js";

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;

/** The run's socket; `query` (e.g. a bounded snapshot's `buckets=625&metrics=…`) if given. */
export function socketUrl(runId, loc = window.location, query = "") {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/ws/runs/${encodeURIComponent(runId)}${query ? `?${query}` : ""}`;
}

/**
 * Watches one run. `query()`, if given, is asked on every (re)connect for the socket's query.
 * `handlers` may have: snapshot(run, history, epochs, summary), metrics(items), epoch(frame),
 * diagnosis(diagnosis), status(status, error), run(run), gone() (no such run),
 * connection(state) with state "open" | "retrying" | "closed".
 */
export class RunStream {
  constructor(runId, handlers, query = null) {
    this.runId = runId;
    this.handlers = handlers;
    this.query = query;
    this.socket = null;
    this.timer = null;
    this.delay = MIN_DELAY_MS;
    this.final = false;
    this.closed = false;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const socket = new WebSocket(socketUrl(this.runId, window.location,
      this.query ? this.query() : ""));
    this.socket = socket;
    socket.onopen = () => {
      this.delay = MIN_DELAY_MS;
      this.emit("connection", "open");
    };
    socket.onmessage = (event) => {
      if (this.socket === socket) this.receive(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this.closedBy(event.code);
    };
    // An error is always followed by close, where the retry happens; nothing to do here.
    socket.onerror = () => {};
  }

  receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return; // a frame we cannot read must not stop the ones after it
    }
    switch (frame.type) {
      case "snapshot":
        this.final = isFinal(frame.run?.status);
        this.emit("snapshot", frame.run, frame.history, frame.epochs || [], frame.summary ?? null);
        break;
      case "metrics":
        this.emit("metrics", frame.items || []);
        break;
      case "epoch":
        this.emit("epoch", frame);
        break;
      case "diagnosis":
        this.emit("diagnosis", frame.diagnosis);
        break;
      case "status":
        this.final = isFinal(frame.status);
        this.emit("status", frame.status, frame.error ?? null);
        break;
      case "run":
        if (frame.run) this.final = isFinal(frame.run.status);
        this.emit("run", frame.run);
        break;
      default:
        break; // frame types added later are ignored, as the contract allows
    }
  }

  closedBy(code) {
    this.socket = null;
    if (this.closed) return;
    if (code === CLOSE_CODES.gone) {
      this.closed = true;
      this.emit("gone");
      this.emit("connection", "closed");
      return;
    }
    if (this.final) {
      this.emit("connection", "closed");
      return;
    }
    this.emit("connection", "retrying");
    const wait = this.delay * (0.75 + Math.random() / 2);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  emit(name, ...args) {
    const handler = this.handlers[name];
    if (handler) handler(...args);
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000);
    }
  }
}
