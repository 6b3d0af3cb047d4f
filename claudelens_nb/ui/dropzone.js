// The Import tab's drop zone: a file dropped here (or picked after a click) is sent to
// Python as one custom message, `{kind: "file", name, size}` with the bytes as a buffer.
function render({ model, el }) {
  el.classList.add("cl-dropzone");
  el.setAttribute("role", "button");
  el.setAttribute("tabindex", "0");
  el.innerHTML =
    '<div class="cl-drop-icon" aria-hidden="true">⬆</div>' +
    '<div class="cl-drop-title">Drag and drop your file here</div>' +
    '<div class="cl-drop-hint">or click to browse (.json .jsonl .csv .zip)</div>';
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
    try {
      const bytes = await file.arrayBuffer();
      model.send({ kind: "file", name: file.name, size: file.size }, undefined, [bytes]);
    } catch (err) {
      model.send({ kind: "error", message: `Could not read ${file.name}: ${err}` });
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
