// The cartoonize_tf page: photos go to this server's TF-Serving REST API (serving_bytes, or
// serving_look_bytes with a look of the user's) and come back as cartoons. Strength, the
// photo | cartoon split and the ZIP are made here; the look sliders redraw the latest photo.
"use strict";

// look: the controls' values now, by name (only with a look panel).
const state = { config: null, cards: [], look: {} };
// A look change waits this long for the next before the latest photo is redrawn.
const PREVIEW_DELAY_MS = 250;
// While a slider is dragged, a photo longer than this (pixels) is sent scaled down to it.
const PREVIEW_SIDE = 512;
// The redraw in waiting (timer), the one in flight (controller) and whether it is full size.
const preview = { timer: null, controller: null, full: false };
const $ = (selector, root = document) => root.querySelector(selector);

function setStatus(text) {
  $("#status").textContent = text;
}

async function loadConfig() {
  const response = await fetch("config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return response.json();
}

function toBase64(bytes) {
  let text = "";
  for (let start = 0; start < bytes.length; start += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(start, start + 0x8000));
  }
  return btoa(text);
}

function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error("this file is not an image the browser can read"));
    image.src = url;
  });
}

// POSTs the photo to serving_bytes, or with `controls` ({name: value}, not empty) to the look
// signature; `onUpload(fraction)` follows the upload, `signal` (an AbortSignal) cancels it.
function requestCartoon(bytes, { onUpload = () => {}, controls = {}, signal } = {}) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    if (signal) signal.addEventListener("abort", () => request.abort());
    request.open("POST", `v1/models/${encodeURIComponent(state.config.model)}:predict`);
    request.setRequestHeader("Content-Type", "application/json");
    request.responseType = "json";
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onUpload(event.loaded / event.total);
    };
    request.upload.onload = () => onUpload(1);
    request.onload = () => {
      const answer = request.response || {};
      if (request.status !== 200) {
        reject(new Error(answer.error || `the server answered HTTP ${request.status}`));
        return;
      }
      const prediction = (answer.predictions || answer.outputs || [])[0];
      if (!prediction || !prediction.b64) {
        reject(new Error("the server's answer holds no image"));
        return;
      }
      resolve(fromBase64(prediction.b64));
    };
    request.onerror = () => reject(new Error("the server could not be reached"));
    request.onabort = () => reject(new DOMException("a newer request replaced it", "AbortError"));
    const image = { b64: toBase64(bytes) };
    request.send(JSON.stringify(Object.keys(controls).length
      ? { signature_name: state.config.look.signature, inputs: { image_bytes: [image], ...controls } }
      : { signature_name: "serving_bytes", instances: [image] }));
  });
}

function strength() {
  return Number($("#strength").value) / 100;
}

// Draws photo + strength * (cartoon - photo) on the card's canvas and, unless it shows a
// scaled-down preview, refreshes its download (and ZIP entry); resolves once that is done.
function render(card) {
  const canvas = $(".cartoon", card.element);
  const context = canvas.getContext("2d");
  context.globalAlpha = 1;
  context.drawImage(card.photo, 0, 0, canvas.width, canvas.height);
  context.globalAlpha = strength();
  context.drawImage(card.preview || card.cartoon, 0, 0, canvas.width, canvas.height);
  if (card.preview) return Promise.resolve();  // the download stays the full-size cartoon
  return new Promise((resolve) => canvas.toBlob((blob) => {
    if (card.url) URL.revokeObjectURL(card.url);
    card.blob = blob;
    card.url = URL.createObjectURL(blob);
    $(".download", card.element).href = card.url;
    resolve();
  }, "image/png"));
}

function setSplit(card, percent) {
  $(".cartoon", card.element).style.clipPath = `inset(0 0 0 ${percent}%)`;
  $(".divider", card.element).style.left = `${percent}%`;
}

function cartoonName(fileName) {
  const stem = fileName.replace(/\.[^.]*$/, "") || "photo";
  return `${stem}_cartoon.png`;
}

function newCard(file) {
  const element = $("#card-template").content.firstElementChild.cloneNode(true);
  $(".name", element).textContent = file.name;
  $(".download", element).download = cartoonName(file.name);
  $("#results").prepend(element);
  const card = { element, file, name: cartoonName(file.name) };
  $(".split", element).addEventListener("input", (event) => setSplit(card, event.target.value));
  $(".compare", element).addEventListener("click", () => openViewer(card));
  setSplit(card, 50);
  return card;
}

// The large view of one result: its cartoon at the current strength, or its photo.
function openViewer(card) {
  if (!card.url) return;  // not cartoonized (yet)
  const viewer = $("#viewer");
  viewer.card = card;
  viewer.showingPhoto = false;
  $("#viewer-name").textContent = card.file.name;
  showInViewer();
  viewer.showModal();
}

function showInViewer() {
  const viewer = $("#viewer");
  const { card, showingPhoto } = viewer;
  $("#viewer-image").src = showingPhoto ? card.photo.src : card.url;
  $("#viewer-image").alt = showingPhoto ? "photo" : "cartoon";
  $("#viewer-toggle").textContent = showingPhoto ? "Show cartoon" : "Show photo";
}

function fail(card, message) {
  card.element.classList.remove("working");
  card.element.classList.add("failed");
  $(".message", card.element).textContent = message;
}

async function cartoonize(file) {
  const card = newCard(file);
  const message = $(".message", card.element);
  const bar = $(".bar", card.element);
  card.element.classList.add("working");
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    card.bytes = bytes;  // kept for redrawing with another look
    const { max_pixels: maxPixels, max_body_bytes: maxBody } = state.config;
    if (bytes.length * 4 / 3 + 1024 > maxBody) {
      throw new Error(`the file is ${(bytes.length / 1e6).toFixed(1)} MB; this server takes ` +
                      `about ${(maxBody * 0.75 / 1e6).toFixed(0)} MB at most`);
    }
    const photoUrl = URL.createObjectURL(file);
    const photo = await loadImage(photoUrl);
    $(".photo", card.element).src = photoUrl;
    const pixels = photo.naturalWidth * photo.naturalHeight;
    if (pixels > maxPixels) {
      throw new Error(`the photo is ${photo.naturalWidth} x ${photo.naturalHeight}; this server ` +
                      `takes at most ${maxPixels.toLocaleString()} pixels: make it smaller first`);
    }
    message.textContent = "Uploading…";
    const controls = lookControls();
    const cartoonBytes = await requestCartoon(bytes, { controls, onUpload: (fraction) => {
      bar.style.width = `${Math.round(fraction * 100)}%`;
      if (fraction >= 1) message.textContent = "Cartoonizing…";
    } });
    card.cartoon = await cartoonImage(cartoonBytes);
    card.photo = photo;
    const canvas = $(".cartoon", card.element);
    canvas.width = card.cartoon.naturalWidth;
    canvas.height = card.cartoon.naturalHeight;
    await render(card);
    card.element.classList.remove("working");
    card.element.classList.add("done");
    card.element.dataset.look = JSON.stringify(controls);
    message.textContent = `${canvas.width} x ${canvas.height}: drag the slider under the ` +
                          "picture to compare";
    state.cards.push(card);
    $("#download-all").disabled = false;
    showCurrent();
    if (card.element.dataset.look !== JSON.stringify(lookControls())) schedulePreview(true);
  } catch (error) {
    fail(card, `Could not cartoonize ${file.name}: ${error.message}`);
  }
}

async function cartoonizeAll(files) {
  const list = Array.from(files);
  if (!list.length) return;
  setStatus(`Cartoonizing ${list.length} photo${list.length > 1 ? "s" : ""}…`);
  for (const file of list) await cartoonize(file);  // one at a time: the server's workers are few
  const failed = document.querySelectorAll(".card.failed").length;
  setStatus(`Done: ${state.cards.length} cartoon${state.cards.length === 1 ? "" : "s"}` +
            (failed ? `, ${failed} failed` : "") + ".");
}

// A cartoon's bytes as a loaded image; its object URL is let go once loaded (redraws make many).
async function cartoonImage(bytes) {
  const url = URL.createObjectURL(new Blob([bytes], { type: "image/png" }));
  try {
    return await loadImage(url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

// The look panel: a slider per control of the served model, presets, and a live preview on
// the latest finished photo (the current card).

// The controls whose value differs from the model's own ({} draws its own look).
function lookControls() {
  const controls = {};
  for (const control of state.config.look ? state.config.look.controls : []) {
    const value = state.look[control.name];
    if (value !== control.default) controls[control.name] = value;
  }
  return controls;
}

function lookText(controls) {
  const names = Object.keys(controls);
  if (!names.length) return "the model's own look";
  const shown = state.config.look.controls.filter((control) => names.includes(control.name));
  return "look: " + shown.map((control) =>
    `${control.label.toLowerCase()} ${valueText(control, controls[control.name])}`).join(", ");
}

function valueText(control, value) {
  return control.step < 1 ? value.toFixed(1) : String(value);
}

function currentCard() {
  return state.cards[state.cards.length - 1];
}

// Marks the current card and says in the panel which photo the sliders redraw.
function showCurrent() {
  if (!state.config.look) return;
  const card = currentCard();
  for (const other of state.cards) other.element.classList.toggle("current", other === card);
  $("#look-target").textContent = card
    ? `Moving a slider redraws ${card.file.name}, the latest photo; new photos get this look.`
    : "New photos get this look; once one is done, moving a slider redraws it.";
}

function buildLookPanel(look) {
  for (const control of look.controls) {
    const element = $("#control-template").content.firstElementChild.cloneNode(true);
    const slider = $("input", element);
    slider.id = `look-${control.name}`;
    Object.assign(slider, { min: control.low, max: control.high, step: control.step,
                            title: control.meaning });
    $("label", element).htmlFor = slider.id;
    const output = $("output", element);
    output.id = `look-${control.name}-value`;
    output.htmlFor.add(slider.id);
    $(".control-name", element).textContent = control.label;
    element.title = control.meaning;
    slider.addEventListener("input", () => moveSlider(control, slider, false));
    slider.addEventListener("change", () => moveSlider(control, slider, true));
    $("#look-controls").append(element);
  }
  for (const name of Object.keys(look.presets)) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = name;
    button.dataset.preset = name;
    button.addEventListener("click", () => setLook(look.presets[name]));
    $("#look-presets").append(button);
  }
  $("#look-reset").addEventListener("click", () => setLook({}));
  setLook({});
  showCurrent();
  $("#look").hidden = false;
}

// A slider moved: its value (skipping values the control does not take, such as 1 tone, in
// the direction it moved) becomes the look; the redraw is full size once it is let go.
function moveSlider(control, slider, released) {
  let value = Number(slider.value);
  if (control.excluded.includes(value)) {
    value += value >= state.look[control.name] ? control.step : -control.step;
    slider.value = value;
  }
  state.look[control.name] = value;
  showLook();
  schedulePreview(released);
}

// Sets every control to `changes` ({name: value}) or, if not given there, the model's own.
function setLook(changes) {
  for (const control of state.config.look.controls) {
    const value = control.name in changes ? changes[control.name] : control.default;
    state.look[control.name] = value;
    $(`#look-${control.name}`).value = value;
  }
  showLook();
  schedulePreview(true);
}

// The sliders' values, the preset that matches the look (if any) and Reset's state.
function showLook() {
  const { controls, presets } = state.config.look;
  for (const control of controls) {
    $(`#look-${control.name}-value`).textContent = valueText(control, state.look[control.name]);
  }
  for (const button of $("#look-presets").children) {
    const preset = presets[button.dataset.preset];
    const matches = controls.every((control) => state.look[control.name] ===
      (control.name in preset ? preset[control.name] : control.default));
    button.setAttribute("aria-pressed", String(matches));
  }
  $("#look-reset").disabled = !Object.keys(lookControls()).length;
}

// Redraws the current card after PREVIEW_DELAY_MS without another change; `full`: at full
// size (a slider let go, a preset), else a scaled-down copy of a large photo (dragging).
function schedulePreview(full) {
  clearTimeout(preview.timer);
  preview.full = full;
  if (currentCard()) preview.timer = setTimeout(redraw, PREVIEW_DELAY_MS);
}

// Redraws the current card with the look now; a newer redraw aborts this one, so the
// last slider position wins. A failure leaves the previous cartoon and says why.
async function redraw() {
  const card = currentCard();
  if (preview.controller) preview.controller.abort();
  const controller = new AbortController();
  preview.controller = controller;
  const controls = lookControls();
  const photo = card.photo;
  const full = preview.full || Math.max(photo.naturalWidth, photo.naturalHeight) <= PREVIEW_SIDE;
  const message = $(".message", card.element);
  for (const other of document.querySelectorAll(".card.redrawing")) {
    other.classList.remove("redrawing");
  }
  card.element.classList.remove("redraw-failed");
  card.element.classList.add("redrawing");
  message.textContent = "Redrawing with the new look…";
  try {
    const bytes = full ? card.bytes : await scaledCopy(photo);
    const image = await cartoonImage(await requestCartoon(bytes, { controls,
                                                                   signal: controller.signal }));
    if (controller.signal.aborted) return;
    card.preview = full ? null : image;
    if (full) card.cartoon = image;
    await render(card);
    if (full) card.element.dataset.look = JSON.stringify(controls);
    message.textContent = `${card.cartoon.naturalWidth} x ${card.cartoon.naturalHeight}, ` +
                          `${lookText(controls)}${full ? "" : " (preview; full size on release)"}`;
  } catch (error) {
    if (controller.signal.aborted) return;  // replaced by a newer redraw
    card.preview = null;
    render(card);
    card.element.classList.add("redraw-failed");
    message.textContent = `Could not redraw ${card.file.name}: ${error.message}; ` +
                          "it keeps its previous look";
  } finally {
    if (preview.controller === controller) {
      preview.controller = null;
      card.element.classList.remove("redrawing");
    }
  }
}

// The photo with its longer side scaled down to PREVIEW_SIDE pixels, as JPEG bytes.
function scaledCopy(photo) {
  const scale = PREVIEW_SIDE / Math.max(photo.naturalWidth, photo.naturalHeight);
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(photo.naturalWidth * scale));
  canvas.height = Math.max(1, Math.round(photo.naturalHeight * scale));
  canvas.getContext("2d").drawImage(photo, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(async (blob) =>
    resolve(new Uint8Array(await blob.arrayBuffer())), "image/jpeg", 0.9));
}

// A ZIP archive (stored, no compression: PNGs are compressed already) of [name, bytes] pairs.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function zipArchive(entries) {
  const encoder = new TextEncoder();
  const parts = [];
  const central = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = encoder.encode(name);
    const crc = crc32(data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, 0x0800, true);  // UTF-8 names
    local.setUint32(14, crc, true);
    local.setUint32(18, data.length, true);
    local.setUint32(22, data.length, true);
    local.setUint16(26, nameBytes.length, true);
    const record = new DataView(new ArrayBuffer(46));
    record.setUint32(0, 0x02014b50, true);
    record.setUint16(4, 20, true);
    record.setUint16(6, 20, true);
    record.setUint16(8, 0x0800, true);
    record.setUint32(16, crc, true);
    record.setUint32(20, data.length, true);
    record.setUint32(24, data.length, true);
    record.setUint16(28, nameBytes.length, true);
    record.setUint32(42, offset, true);
    parts.push(local, nameBytes, data);
    central.push(record, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const centralSize = central.reduce((size, part) => size + part.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  return new Blob([...parts, ...central, end], { type: "application/zip" });
}

function uniqueNames(cards) {
  const used = new Map();
  return cards.map((card) => {
    const count = used.get(card.name) || 0;
    used.set(card.name, count + 1);
    return count ? card.name.replace(/\.png$/, `_${count + 1}.png`) : card.name;
  });
}

async function downloadAll() {
  const names = uniqueNames(state.cards);
  const entries = await Promise.all(state.cards.map(async (card, index) =>
    [names[index], new Uint8Array(await card.blob.arrayBuffer())]));
  const link = document.createElement("a");
  link.href = URL.createObjectURL(zipArchive(entries));
  link.download = "cartoons.zip";
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function wire() {
  const drop = $("#drop");
  $("#files").addEventListener("change", (event) => {
    cartoonizeAll(event.target.files);
    event.target.value = "";
  });
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => { event.preventDefault(); drop.classList.add("over"); });
  }
  for (const name of ["dragleave", "drop"]) {
    drop.addEventListener(name, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    cartoonizeAll(event.dataTransfer.files);
  });
  $("#strength").addEventListener("input", () => {
    $("#strength-value").textContent = `${$("#strength").value}%`;
    state.cards.forEach(render);
  });
  $("#download-all").addEventListener("click", downloadAll);
  $("#viewer-close").addEventListener("click", () => $("#viewer").close());
  $("#viewer-toggle").addEventListener("click", () => {
    $("#viewer").showingPhoto = !$("#viewer").showingPhoto;
    showInViewer();
  });
  $("#viewer").addEventListener("click", (event) => {  // a click on the backdrop closes it
    if (event.target === $("#viewer")) $("#viewer").close();
  });
}

window.addEventListener("DOMContentLoaded", async () => {
  wire();
  try {
    state.config = await loadConfig();
    if (state.config.look) buildLookPanel(state.config.look);
    setStatus(`Ready: model ${state.config.model}, photos up to ` +
              `${state.config.max_pixels.toLocaleString()} pixels.`);
  } catch (error) {
    setStatus(`The server's settings could not be read (${error.message}); reload the page.`);
  }
});
