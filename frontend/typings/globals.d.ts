// What the page's modules use without importing it, for TypeScript's check (`make lint`).

/** Plotly.js, loaded by index.html's classic script from /static/plotly.min.js. */
declare const Plotly: any;

/** What Plotly adds to a plot's element. */
interface HTMLElement {
  _fullLayout?: any;
  on?: (event: string, handler: (data: any) => void) => void;
  data?: any[];
}
