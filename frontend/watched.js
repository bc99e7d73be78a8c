// @ts-check
// What the page knows about one run, kept current by its websocket: the Run object, its
// steps (a RunSeries), the newest diagnosis and epoch figures. Views read it; `onChange(what)`
// tells them which part changed ("run", "data", "diagnosis", "epoch", "connection", "gone").

import { RunSeries } from "./series.js";
import { RunStream } from "./stream.js";
import { runLabel } from "./util.js";

export class WatchedRun {
  constructor(runId, onChange) {
    this.id = runId;
    this.onChange = onChange;
    this.run = null;
    this.series = new RunSeries();
    this.diagnosis = null;
    this.lastEpoch = null;
    this.connection = "connecting";
    this.gone = false;
    this.stream = new RunStream(runId, {
      snapshot: (run, history, epochs) => {
        this.run = run;
        this.diagnosis = run?.diagnosis ?? null;
        this.series.load(history || {}, epochs);
        this.lastEpoch = this.series.lastEpoch;
        this.changed("run", "data", "diagnosis", "epoch");
      },
      metrics: (items) => {
        this.series.append(items);
        this.changed("data");
      },
      epoch: (frame) => {
        this.series.addEpoch(frame);
        this.lastEpoch = frame;
        this.changed("epoch");
      },
      diagnosis: (diagnosis) => {
        this.diagnosis = diagnosis;
        if (this.run) this.run.diagnosis = diagnosis;
        this.changed("diagnosis");
      },
      status: (status, error) => {
        if (this.run) Object.assign(this.run, { status, error });
        this.changed("run");
      },
      run: (run) => {
        if (!run) return;
        // The shared run frame has no `owned`: keep the snapshot's (docs/server.md).
        this.run = { ...this.run, ...run, owned: this.run?.owned ?? run.owned };
        if (run.diagnosis) this.diagnosis = run.diagnosis;
        this.changed("run", "diagnosis");
      },
      gone: () => {
        this.gone = true;
        this.changed("gone");
      },
      connection: (state) => {
        this.connection = state;
        this.changed("connection");
      },
    });
  }

  changed(...parts) {
    for (const part of parts) this.onChange(part, this);
  }

  get status() {
    return this.run?.status ?? null;
  }

  /** The newest step seen (recorded in the series or not), for progress. */
  get lastStep() {
    return this.series.last;
  }

  get label() {
    return runLabel(this.run, this.id);
  }

  close() {
    this.stream.close();
  }
}
