// @ts-check
// The replay's controls under the heatmap's menu: Replay from step 0, Play/Pause, the speed,
// a step slider (a range input: arrows, Page Up/Down, Home and End move it) and the button
// back to the live view or the whole run. The step shown is in the URL hash (`step`); while
// playing it moves here and is written to the hash when the replay pauses or ends.

import { DEFAULT_SPEED, ReplayClock, SPEEDS } from "./replay.js";
import { within } from "./util.js";

const TICK_MS = 100;

export class ReplayBar {
  /**
   * The controls inside `root`. `onStep(step or null)` whenever the step to show changes
   * (null: every step, live); `onSettle(step or null)` when it should go into the hash.
   * @param {{root: ParentNode, onStep: (step: number | null) => void,
   *   onSettle: (step: number | null) => void}} options
   */
  constructor({ root, onStep, onSettle }) {
    const find = within(root);
    this.box = find("replay-bar");
    this.start = /** @type {HTMLButtonElement} */ (find("replay"));
    this.toggle = /** @type {HTMLButtonElement} */ (find("replay-play"));
    this.speed = /** @type {HTMLSelectElement} */ (find("replay-speed"));
    this.slider = /** @type {HTMLInputElement} */ (find("replay-step"));
    this.position = find("replay-position");
    this.live = /** @type {HTMLButtonElement} */ (find("replay-live"));
    this.onStep = onStep;
    this.onSettle = onSettle;
    this.clock = new ReplayClock(DEFAULT_SPEED);
    this.step = null;      // the step shown, or null for all of them
    this.last = null;      // the newest recorded step of the watched run
    this.active = false;   // whether the watched run may still get steps
    this.timer = null;
    this.speed.replaceChildren(...SPEEDS.map(([s, label]) => new Option(label, String(s))));
    this.speed.value = String(DEFAULT_SPEED);
    this.bind();
    this.render();
  }

  bind() {
    this.start.addEventListener("click", () => this.play(0));
    this.toggle.addEventListener("click", () => {
      if (this.clock.playing) this.pause();
      else this.play(this.step === null || this.step >= (this.last ?? 0) ? 0 : this.step);
    });
    this.speed.addEventListener("change", () => {
      this.clock.duration = Number(this.speed.value);
    });
    this.slider.addEventListener("input", () => {
      const step = Number(this.slider.value); // before pause() redraws the slider
      this.pause(false);
      this.show(step);
      this.onSettle(this.step);
    });
    this.live.addEventListener("click", () => {
      this.pause(false);
      this.show(null);
      this.onSettle(null);
    });
  }

  /** The watched run's newest step (null before any) and whether it may still grow. */
  sync(last, active) {
    this.last = last;
    this.active = active;
    this.render();
  }

  /** Follow the hash's step (ignored while playing: the replay writes it when it stops). */
  follow(step) {
    if (this.clock.playing) return;
    this.show(step);
  }

  /** Stop playing and forget the step: another run is watched. */
  reset() {
    this.pause(false);
    this.step = null;
    this.render();
  }

  play(from) {
    if (this.last === null) return;
    this.clock.play(from);
    this.show(from);
    this.render();
    if (this.timer === null) {
      let before = performance.now();
      this.timer = setInterval(() => {
        const now = performance.now();
        const step = this.clock.advance((now - before) / 1000, this.last ?? 0);
        before = now;
        this.show(step);
        if (!this.clock.playing) this.ended();
      }, TICK_MS);
    }
  }

  /** Pause; `settle` writes the step into the hash. */
  pause(settle = true) {
    const was = this.clock.playing;
    this.clock.pause();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.render();
    if (was && settle) this.onSettle(this.step);
  }

  /** The replay reached the newest step: a live run goes back to live, an ended one stays. */
  ended() {
    this.pause(false);
    if (this.active) this.show(null);
    this.onSettle(this.step);
  }

  show(step) {
    const next = step === null || this.last === null ? step : Math.max(0, Math.min(step, this.last));
    if (next === this.step) return;
    this.step = next;
    this.render();
    this.onStep(next);
  }

  render() {
    const has = this.last !== null;
    this.box.hidden = !has;
    if (!has) return;
    const last = /** @type {number} */ (this.last);
    const shown = this.step ?? last;
    this.slider.max = String(last);
    this.slider.value = String(shown);
    const text = `step ${shown} of ${last}`;
    this.slider.setAttribute("aria-valuetext", text);
    this.position.textContent = this.step === null
      ? `every step${this.active ? " (live)" : ""}: 0–${last}`
      : `steps 0–${shown} of ${last}, with the diagnosis as it was then`;
    // Its name says what it does next (a toggle whose name changes takes no aria-pressed).
    this.toggle.textContent = this.clock.playing ? "Pause" : "Play";
    this.live.hidden = this.step === null;
    this.live.textContent = this.active ? "Back to live" : "Show the whole run";
  }
}
