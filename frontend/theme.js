// @ts-check
// What every plot shares: fonts that follow the page's text size (large-font mode for a
// projector), transparent paper, the mode bar without lasso tools, and the large-font switch.

const STORAGE_KEY = "gradwatch.large-text";

/** The root font size in px (15 normally, larger in large-font mode). */
function rootSize() {
  const size = parseFloat(getComputedStyle(document.documentElement).fontSize);
  return Number.isFinite(size) ? size : 15;
}

export function plotFont() {
  return { family: "system-ui, sans-serif", size: Math.round(rootSize() * 0.8) };
}

export const PLOT_CONFIG = {
  responsive: true,
  displaylogo: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toImage"],
};

/** Layout parts every plot has. */
export function baseLayout() {
  return {
    paper_bgcolor: "rgba(0,0,0,0)",
    font: plotFont(),
    hoverlabel: { font: { size: plotFont().size } },
  };
}

/** The large-text switch: remembered in this browser, applied to the whole page. */
export function setUpLargeText(checkbox, onChange) {
  let saved = false;
  try {
    saved = window.localStorage.getItem(STORAGE_KEY) === "1";
  } catch {
    saved = false; // storage may be blocked; the switch still works for this visit
  }
  const apply = (on) => {
    document.documentElement.classList.toggle("large-text", on);
    checkbox.checked = on;
  };
  apply(saved);
  checkbox.addEventListener("change", () => {
    apply(checkbox.checked);
    try {
      window.localStorage.setItem(STORAGE_KEY, checkbox.checked ? "1" : "0");
    } catch {
      // not remembered, still applied
    }
    onChange();
  });
}
