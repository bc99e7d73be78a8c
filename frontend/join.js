// @ts-check
// The access-code page: the view the visitor was sent (`/#run=…`, kept by the redirect to
// /join) goes with the code, so joining lands on that view instead of an empty dashboard.

const next = /** @type {HTMLInputElement | null} */ (document.getElementById("next"));
if (next && window.location.hash.length > 1) next.value = window.location.hash;
