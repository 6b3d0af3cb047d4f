// The light/dark toggle (anywidget). The choice is kept in the browser's localStorage, so a
// reload (or the next visit) keeps it; without one, the browser's preference applies (CSS).
const KEY = "claudelens-theme";

function stored() {
  try {
    const v = window.localStorage.getItem(KEY);
    return v === "dark" || v === "light" ? v : null;
  } catch (e) {
    return null;  // storage disabled: the toggle still works for this page
  }
}

function apply(root, theme) {
  root.classList.toggle("cl-dark", theme === "dark");
  root.classList.toggle("cl-light", theme === "light");
}

function render({ model, el }) {
  el.classList.add("cl-theme");
  model.send({ kind: "shown" });  // the page is open: a preheated app refreshes its numbers
  const button = document.createElement("button");
  button.type = "button";
  button.className = "cl-theme-toggle";
  button.title = "Switch light / dark theme";
  button.setAttribute("aria-label", "Switch light / dark theme");
  button.innerHTML = '<span class="cl-icon-moon">&#9790;</span><span class="cl-icon-sun">&#9728;</span>';
  el.appendChild(button);

  // The widget is attached to the page after render: wait for the app root around it.
  const saved = stored();
  let tries = 0;
  const restore = () => {
    const root = el.closest(".cl-app");
    if (root) {
      if (saved) apply(root, saved);
      root.dataset.themeReady = saved || "browser";
    } else if (tries++ < 600) {
      requestAnimationFrame(restore);
    }
  };
  restore();

  button.addEventListener("click", () => {
    const root = el.closest(".cl-app");
    if (!root) return;
    const prefersDark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    const dark = root.classList.contains("cl-dark") || (!root.classList.contains("cl-light") && prefersDark);
    const next = dark ? "light" : "dark";
    apply(root, next);
    try {
      window.localStorage.setItem(KEY, next);
    } catch (e) {
      /* not kept: storage disabled */
    }
  });
}

export default { render };
