// The Import tab's drop zone: a file dropped here (or picked with its button, or a click
// anywhere on it) is sent to Python as one custom message, `{kind: "file", name, size}` with
// the bytes as a buffer. `chosen` (set by Python) names the file in use, or is empty.
function render({ model, el }) {
  el.classList.add("cl-dropzone");
  el.setAttribute("role", "button");
  el.setAttribute("tabindex", "0");
  const kinds = (model.get("accept") || "").split(",").join(" ");
  const limitMb = Math.round((model.get("max_bytes") || 0) / 1024 / 1024);
  el.title = "A ClaudeLens export or a compatible file" + (limitMb ? ` (up to ${limitMb} MB)` : "");
  el.innerHTML =
    '<div class="cl-drop-icon" aria-hidden="true">⬆</div>' +
    '<div class="cl-drop-title">Drag and drop your file here</div>' +
    `<div class="cl-drop-hint">or click to browse (${kinds})</div>` +
    '<div class="cl-upload-row"><button type="button" class="cl-upload jupyter-button">Choose File</button>' +
    '<span class="cl-upload-name"></span></div>';
  const chosen = el.querySelector(".cl-upload-name");
  const showChosen = () => {
    const name = model.get("chosen");
    chosen.textContent = name || "No file chosen";
    chosen.classList.toggle("cl-upload-none", !name);
  };
  showChosen();
  model.on("change:chosen", showChosen);
  const picker = document.createElement("input");
  picker.type = "file";
  picker.accept = model.get("accept");
  picker.style.display = "none";
  el.appendChild(picker);

  async function send(files) {
    if (!files || files.length === 0) return;
    if (files.length > 1) {
      model.send({ kind: "error", message: `Drop one file at a time (got ${files.length}).` });
      return;
    }
    const file = files[0];
    const limit = model.get("max_bytes");
    if (limit && file.size > limit) {
      const mb = (n) => (n / 1024 / 1024).toFixed(1);
      model.send({
        kind: "error",
        message: `${file.name} is ${mb(file.size)} MB, above the ${mb(limit)} MB a browser upload ` +
          "can carry: give its path on the server instead.",
      });
      return;
    }
    el.classList.add("cl-drop-busy");
    chosen.textContent = `${file.name} — sending…`;
    try {
      const bytes = await file.arrayBuffer();
      model.send({ kind: "file", name: file.name, size: file.size }, undefined, [bytes]);
    } catch (err) {
      model.send({ kind: "error", message: `Could not read ${file.name}: ${err}` });
      showChosen();
    } finally {
      el.classList.remove("cl-drop-busy");
    }
  }

  const over = (e) => {
    e.preventDefault();
    el.classList.add("cl-drag-over");
  };
  el.addEventListener("dragenter", over);
  el.addEventListener("dragover", over);
  el.addEventListener("dragleave", () => el.classList.remove("cl-drag-over"));
  el.addEventListener("drop", (e) => {
    e.preventDefault();
    el.classList.remove("cl-drag-over");
    send(e.dataTransfer && e.dataTransfer.files);
  });
  el.addEventListener("click", (e) => {
    if (e.target !== picker) picker.click();
  });
  el.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") picker.click();
  });
  picker.addEventListener("change", () => {
    send(picker.files);
    picker.value = "";
  });
}
export default { render };
