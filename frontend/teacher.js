// @ts-check
// The teacher's console in the runs panel: the admin token (GRADWATCH_ADMIN_TOKEN) entered
// once, checked with the server, kept for this browser tab's session (sessionStorage, never
// in the URL) and sent with every call; with it the runs list offers Stop and Delete on
// every run, with each owner's label.

import { getToken, useAdminToken } from "./api.js";
import { within } from "./util.js";

const KEY = "gradwatch.adminToken";

export class TeacherConsole {
  /** The console inside `root`; `onChange(admin)` when teacher mode starts or ends. */
  constructor({ root, onChange }) {
    const find = within(root);
    this.root = /** @type {HTMLDetailsElement} */ (root);
    this.form = /** @type {HTMLFormElement} */ (find("teacher-form"));
    this.input = /** @type {HTMLInputElement} */ (find("admin-token"));
    this.state = find("teacher-state");
    this.leave = /** @type {HTMLButtonElement} */ (find("teacher-leave"));
    this.onChange = onChange;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.use(this.input.value.trim());
    });
    this.leave.addEventListener("click", () => this.forget());
  }

  /** Teacher mode again after a reload, if this tab's session holds the token. */
  restore() {
    const token = window.sessionStorage.getItem(KEY);
    if (token) this.use(token);
  }

  async use(token) {
    if (!token) return;
    useAdminToken(token);
    let admin = false;
    try {
      admin = Boolean((await getToken()).admin);
    } catch (err) {
      this.show(`Cannot check the token: ${err.message}`, false);
      useAdminToken(null);
      return;
    }
    if (!admin) {
      useAdminToken(null);
      window.sessionStorage.removeItem(KEY);
      this.input.setAttribute("aria-invalid", "true");
      this.show("That is not this server's admin token (GRADWATCH_ADMIN_TOKEN).", false);
      this.input.focus();
      return;
    }
    window.sessionStorage.setItem(KEY, token);
    this.input.value = "";
    this.input.removeAttribute("aria-invalid");
    this.show("Teacher mode: every run has Stop and Delete, and shows its owner.", true);
    this.onChange(true);
  }

  forget() {
    useAdminToken(null);
    window.sessionStorage.removeItem(KEY);
    this.show("", false);
    this.onChange(false);
    this.input.focus();
  }

  show(message, admin) {
    this.state.textContent = message;
    this.state.classList.toggle("error", Boolean(message) && !admin);
    this.form.hidden = admin;
    this.leave.hidden = !admin;
    this.root.classList.toggle("on", admin);
    if (admin) this.root.open = true;
  }
}
