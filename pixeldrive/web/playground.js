"use strict";
// The PixelDrive playground: plain modern JavaScript, no build step, no third parties.
// Every image is fetched with the key (fetch → blob: URL), since <img> cannot send headers.

const KEY_STORE = "pixeldrive.key";
const DEBOUNCE_MS = 300;
const THUMB_WIDTH = 480;
const COMPARE_WIDTH = 600;
const IMAGE_ACCEPT = "image/avif,image/webp,image/png;q=0.9";
const MIME_EXT = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/avif": "avif", "application/pdf": "pdf" };
const $ = (id) => document.getElementById(id);

const state = {
  key: "",
  templates: [],
  template: null, // the description of the chosen one
  images: new Map(), // image field name → data: URI picked by the user
  previewUrl: null,
  renderAbort: null,
  signAbort: null,
  timer: 0,
  generation: 0,
  signing: true, // false once the server says it cannot sign (authentication off)
};

// Build DOM nodes; text is always set as text, never parsed as HTML.
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// ---- the key -------------------------------------------------------------------------

function loadKey() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const handed = hash.get("key");
  if (handed) {
    localStorage.setItem(KEY_STORE, handed.trim());
    hash.delete("key");
    const rest = hash.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  state.key = localStorage.getItem(KEY_STORE) || "";
  showKey();
}

function showKey() {
  const k = state.key;
  $("key-label").textContent = k ? `Key ${k.slice(0, 6)}…${k.slice(-4)}` : "No key";
  $("key-label").classList.toggle("set", Boolean(k));
  $("key-change").textContent = k ? "Change key" : "Set key";
}

function toggleKeyPanel(open) {
  $("key-panel").hidden = !open;
  $("key-change").setAttribute("aria-expanded", String(open));
  if (open) {
    $("key-input").value = state.key;
    $("key-input").focus();
  }
}

function setKey(value) {
  state.key = value.trim();
  if (state.key) localStorage.setItem(KEY_STORE, state.key);
  else localStorage.removeItem(KEY_STORE);
  showKey();
  toggleKeyPanel(false);
  loadGallery();
}

// ---- HTTP ----------------------------------------------------------------------------

function headers(extra = {}) {
  return state.key ? { Authorization: `Bearer ${state.key}`, ...extra } : { ...extra };
}

class Problem extends Error {
  constructor(status, body) {
    super(body && body.detail ? body.detail : `the server answered ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

async function problemOf(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  return new Problem(response.status, body);
}

async function api(path, { method = "GET", body, accept = "application/json", signal, raw, cache = "default" } = {}) {
  const init = { method, headers: headers({ Accept: accept }), signal, cache };
  if (raw !== undefined) {
    init.body = raw;
    init.headers["Content-Type"] = "image/svg+xml";
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, init);
  if (!response.ok) throw await problemOf(response);
  return response;
}

async function imageBlob(path, signal, accept = IMAGE_ACCEPT) {
  // Revalidate: a preview's URL stays the same when its template is replaced.
  const response = await api(path, { accept, signal, cache: "no-cache" });
  return response.blob();
}

// ---- the gallery ---------------------------------------------------------------------

async function loadGallery() {
  const gallery = $("gallery");
  const note = $("gallery-state");
  gallery.replaceChildren();
  gallery.setAttribute("aria-busy", "true");
  note.hidden = false;
  note.classList.remove("failed");
  note.textContent = "Loading templates…";
  try {
    const list = await (await api("/v1/templates")).json();
    state.templates = list.templates;
  } catch (error) {
    note.classList.add("failed");
    note.textContent = error.status === 401
      ? "This server needs an API key: set one above."
      : `Could not list the templates: ${error.message}`;
    if (error.status === 401) toggleKeyPanel(true);
    gallery.setAttribute("aria-busy", "false");
    return;
  }
  note.hidden = state.templates.length > 0;
  note.textContent = state.templates.length ? "" : "No templates yet: upload one below.";
  for (const t of state.templates) gallery.append(galleryItem(t));
  gallery.setAttribute("aria-busy", "false");
  for (const t of state.templates) loadThumb(t);
  const wanted = new URLSearchParams(location.hash.slice(1)).get("template");
  const again = state.template && state.templates.find((t) => t.id === state.template.id);
  if (again || wanted) choose((again || { id: wanted }).id, { focus: false });
}

function galleryItem(t) {
  return h("li", {},
    h("button", { type: "button", class: "tile", "data-template": t.id, "aria-pressed": "false", onclick: () => choose(t.id) },
      h("span", { class: "thumb", style: null },
        h("img", { alt: "", id: `thumb-${t.id}`, width: t.width, height: t.height })),
      h("span", { class: "tile-body" },
        h("span", { class: "tile-name" }, t.id),
        h("span", { class: "tile-meta" },
          h("span", {}, `${t.width}×${t.height}`),
          h("span", {}, `${t.fields.length} field${t.fields.length === 1 ? "" : "s"}`),
          h("span", { class: "mono", title: `version ${t.version}` }, `v ${t.version.slice(0, 7)}`)))));
}

async function loadThumb(t) {
  const img = $(`thumb-${t.id}`);
  if (!img) return;
  try {
    const blob = await imageBlob(`/v1/templates/${encodeURIComponent(t.id)}/preview?width=${Math.min(THUMB_WIDTH, t.width)}`);
    const old = img.src;
    img.src = URL.createObjectURL(blob);
    if (old.startsWith("blob:")) URL.revokeObjectURL(old);
  } catch (error) {
    img.closest(".thumb").classList.add("broken");
    img.closest(".thumb").title = error.message;
  }
}

// ---- the form ------------------------------------------------------------------------

async function choose(id, { focus = true } = {}) {
  let described;
  try {
    described = await (await api(`/v1/templates/${encodeURIComponent(id)}`)).json();
  } catch (error) {
    say("status", `Could not open ${id}: ${error.message}`, "failed");
    return;
  }
  state.template = described;
  state.images.clear();
  for (const tile of document.querySelectorAll(".tile")) {
    tile.setAttribute("aria-pressed", String(tile.dataset.template === id));
  }
  const hash = new URLSearchParams(location.hash.slice(1));
  hash.set("template", id);
  history.replaceState(null, "", `${location.pathname}${location.search}#${hash}`);
  $("empty").hidden = true;
  $("editor").hidden = false;
  $("template-meta").textContent = `${described.id} · ${described.width}×${described.height}`;
  buildForm(described);
  showFonts(described.fonts || []);
  if (focus) $("fields-form").querySelector("input, textarea")?.focus();
  update(true);
}

// The families the template names, each with where its text comes from.
const FONT_SOURCES = { uploaded: "uploaded", bundled: "bundled", missing: "not installed: the fallback font draws it" };

function showFonts(fonts) {
  const list = $("template-fonts");
  list.replaceChildren(...fonts.map(({ family, source }) => {
    const item = document.createElement("li");
    item.dataset.source = source;
    const name = document.createElement("strong");
    name.textContent = family;
    item.append(name, ` ${FONT_SOURCES[source] || source}`);
    return item;
  }));
  list.hidden = fonts.length === 0;
}

function fieldHint(f) {
  const parts = [{ color: "colour: hex, rgb(), hsl() or a name", image: "image: PNG, JPEG, WebP; empty keeps the default", qr: "QR code: a URL or text" }[f.kind] || f.kind];
  if (f.max_length) parts.push(`max ${f.max_length} characters`);
  if (f.min !== undefined && f.max !== undefined) parts.push(`${f.min} to ${f.max}`);
  else if (f.min !== undefined) parts.push(`at least ${f.min}`);
  else if (f.max !== undefined) parts.push(`at most ${f.max}`);
  if (f.fit) parts.push(`fit ${f.fit}${f.max_lines ? `, ${f.max_lines} lines` : ""}`);
  if (f.pattern) parts.push(`pattern ${f.pattern}`);
  return parts.join(" · ");
}

function buildForm(t) {
  const form = $("fields-form");
  // Required fields first (what must be filled in), then the rest in the designer's order.
  const ordered = [...t.fields.filter((f) => f.required), ...t.fields.filter((f) => !f.required)];
  form.replaceChildren(...ordered.map(fieldRow));
}

function fieldRow(f) {
  const id = `field-${f.name}`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const common = { id, name: f.name, "aria-describedby": `${hintId} ${errorId}`, required: f.required || null };
  const label = h("label", { for: id, class: "field-label" }, f.name,
    f.required ? h("span", { class: "required" }, "required") : null);
  let control;
  const value = f.default === undefined || f.default === null ? "" : f.default;
  if (f.kind === "text" && f.fit === "wrap") {
    control = h("textarea", { ...common, rows: 3, maxlength: f.max_length });
    control.value = String(value);
  } else if (f.kind === "text" || f.kind === "qr") {
    control = h("input", { ...common, type: "text", maxlength: f.max_length, inputmode: f.kind === "qr" ? "url" : null });
    control.value = String(value);
  } else if (f.kind === "color") {
    control = h("input", { ...common, type: "text", class: "mono", placeholder: "#e11d48, rgb(…), hsl(…), teal" });
    control.value = String(value);
    const picker = h("input", { type: "color", "aria-label": `${f.name}: pick a colour`, class: "swatch" });
    picker.value = toHex(String(value)) || "#000000";
    picker.addEventListener("input", () => { control.value = picker.value; update(); });
    control.addEventListener("input", () => { const hex = toHex(control.value); if (hex) picker.value = hex; });
    control = h("div", { class: "color-row" }, picker, control);
  } else if (f.kind === "show") {
    control = h("input", { ...common, type: "checkbox" });
    control.checked = value === true || value === "true";
    return h("div", { class: "field field-check", "data-field": f.name },
      h("div", { class: "check-row" }, control, label),
      h("span", { class: "hint", id: hintId }, "show or hide this part"),
      h("span", { class: "error", id: errorId }));
  } else if (f.kind === "number") {
    control = h("input", { ...common, type: "number", step: "any", min: f.min, max: f.max });
    control.value = value === "" ? "" : String(value);
  } else if (f.kind === "image") {
    const input = h("input", { ...common, type: "file", accept: "image/png,image/jpeg,image/webp,image/gif" });
    const clear = h("button", { type: "button", class: "button ghost small", hidden: true }, "Use the default");
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (!file) return;
      state.images.set(f.name, await dataUri(file));
      clear.hidden = false;
      update();
    });
    clear.addEventListener("click", () => { input.value = ""; state.images.delete(f.name); clear.hidden = true; update(); });
    control = h("div", { class: "file-row" }, input, clear);
  } else {
    control = h("input", { ...common, type: "text" });
    control.value = String(value);
  }
  const counter = f.max_length ? h("span", { class: "counter", "aria-hidden": "true" }) : null;
  const row = h("div", { class: "field", "data-field": f.name }, h("div", { class: "label-row" }, label, counter), control,
    h("span", { class: "hint", id: hintId }, fieldHint(f)),
    h("span", { class: "fit-note", "aria-live": "polite" }),
    h("span", { class: "error", id: errorId }));
  if (counter) {
    const input = row.querySelector(`[name="${CSS.escape(f.name)}"]`);
    const count = () => { counter.textContent = `${input.value.length}/${f.max_length}`; };
    input.addEventListener("input", count);
    count();
  }
  return row;
}

function dataUri(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// A CSS colour as #rrggbb for <input type=color>, via the browser's own parser.
const colourProbe = document.createElement("canvas").getContext("2d");
function toHex(css) {
  if (!css || !CSS.supports("color", css)) return null;
  colourProbe.fillStyle = "#000";
  colourProbe.fillStyle = css;
  const v = colourProbe.fillStyle;
  return v.startsWith("#") ? v : null;
}

function payload() {
  const fields = {};
  const form = $("fields-form");
  for (const f of state.template.fields) {
    if (f.kind === "image") {
      if (state.images.has(f.name)) fields[f.name] = state.images.get(f.name);
      continue;
    }
    const input = form.elements.namedItem(f.name);
    if (!input) continue;
    if (f.kind === "show") fields[f.name] = input.checked;
    else if (f.kind === "number") { if (input.value !== "") fields[f.name] = Number(input.value); }
    else if (input.value !== "" || f.required) fields[f.name] = input.value;
  }
  return { template: state.template.id, fields };
}

// ---- preview, signed URL, snippets ---------------------------------------------------

function update(now = false) {
  clearTimeout(state.timer);
  if (!state.template) return;
  state.timer = setTimeout(render, now ? 0 : DEBOUNCE_MS);
}

function showFieldErrors(errors) {
  for (const node of document.querySelectorAll("#fields-form .field")) {
    node.classList.remove("invalid");
    node.querySelector(".error").textContent = "";
    node.querySelector("[name]")?.removeAttribute("aria-invalid");
  }
  for (const e of errors || []) {
    const name = String(e.field || "").replace(/^fields\./, "").split(".")[0];
    const node = document.querySelector(`#fields-form .field[data-field="${CSS.escape(name)}"]`);
    if (!node) continue;
    node.classList.add("invalid");
    node.querySelector(".error").textContent = e.message;
    node.querySelector("[name]")?.setAttribute("aria-invalid", "true");
  }
}

async function render() {
  const body = payload();
  const generation = ++state.generation;
  state.renderAbort?.abort();
  const abort = (state.renderAbort = new AbortController());
  $("spinner").hidden = false;
  const started = performance.now();
  try {
    const response = await api("/v1/renders", { method: "POST", body, accept: IMAGE_ACCEPT, signal: abort.signal });
    const blob = await response.blob();
    const ms = Math.round(performance.now() - started);
    if (generation !== state.generation) return;
    const url = URL.createObjectURL(blob);
    const img = $("preview");
    await new Promise((resolve) => { img.onload = resolve; img.onerror = resolve; img.src = url; });
    if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
    state.previewUrl = url;
    img.alt = `${body.template} rendered with the fields in the form`;
    showFieldErrors([]);
    const type = (response.headers.get("Content-Type") || "").split(";")[0];
    const cache = response.headers.get("X-Cache") || "?";
    showRenderMeta(type, `${img.naturalWidth}×${img.naturalHeight}`, `${ms} ms`, cache, blob.size);
    showTextLayout(response.headers.get("Server-Timing"));
    say("status", `Rendered ${MIME_EXT[type]?.toUpperCase() || type} in ${ms} ms, cache ${cache}.`);
  } catch (error) {
    if (error.name === "AbortError") return;
    showFieldErrors(error.body?.errors);
    const detail = error.body?.errors?.length ? `${error.message}: ${error.body.errors.map((e) => `${e.field} ${e.message}`).join("; ")}` : error.message;
    say("status", `Not rendered: ${detail}`, "failed");
  } finally {
    if (generation === state.generation) $("spinner").hidden = true;
  }
  if (generation === state.generation) share(body);
}

// What the text engine did per field, from the Server-Timing header of a drawn image
// (text.NAME;desc="size=… lines=… truncated=… fallbacks=…"). A cache hit has none: the
// notes of the render that drew it stay.
function showTextLayout(timing) {
  if (!timing) return;
  for (const node of document.querySelectorAll("#fields-form .field .fit-note")) node.textContent = "";
  for (const [, name, desc] of timing.matchAll(/text\.([a-z0-9_]+);desc="([^"]*)"/g)) {
    const note = document.querySelector(`#fields-form .field[data-field="${CSS.escape(name)}"] .fit-note`);
    if (!note) continue;
    // Font names hold spaces: fallbacks comes last and takes the rest.
    const match = desc.match(/^size=(\S+) lines=(\d+) truncated=(\d) fallbacks=(.*)$/);
    if (!match) continue;
    const info = { size: match[1], lines: match[2], truncated: match[3], fallbacks: match[4] };
    const lines = Number(info.lines) === 1 ? "1 line" : `${info.lines} lines`;
    const parts = [`set at ${info.size} px`, lines];
    if (info.truncated === "1") parts.push("cut to fit");
    if (info.fallbacks && info.fallbacks !== "none") parts.push(`fallback: ${info.fallbacks.replaceAll(",", ", ")}`);
    note.textContent = parts.join(" · ");
    note.classList.toggle("cut", info.truncated === "1");
  }
}

function showRenderMeta(type, size, time, cache, bytes) {
  const pill = (label, value, extra = "") => h("li", { class: `pill ${extra}` }, h("span", { class: "visually-hidden" }, `${label}: `), value);
  $("render-meta").replaceChildren(
    pill("Content-Type", h("strong", { class: "mono" }, type)),
    pill("Size", size),
    pill("Bytes", formatBytes(bytes)),
    pill("Time", time),
    pill("X-Cache", `cache ${cache}`, cache === "hit" ? "hit" : "miss"));
}

function formatBytes(n) {
  return n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1048576).toFixed(2)} MB`;
}

async function share(body) {
  const format = $("url-format").value;
  const ttl = Number($("url-ttl").value);
  $("curl-snippet").textContent = curlLine(body, format || "png");
  $("python-snippet").textContent = pythonSnippet(body, format || "png");
  const out = $("signed-url");
  if (!state.signing) return;
  state.signAbort?.abort();
  const abort = (state.signAbort = new AbortController());
  try {
    const response = await api("/v1/sign", { method: "POST", body: { ...body, format: format || undefined, ttl }, signal: abort.signal });
    const signed = await response.json();
    out.textContent = new URL(signed.url, location.origin).href;
    out.classList.remove("failed");
    $("signed-expiry").textContent = `expires ${new Date(signed.expires_at * 1000).toLocaleString()}`;
  } catch (error) {
    if (error.name === "AbortError") return;
    out.textContent = "";
    $("signed-expiry").textContent = "";
    if (error.status === 409) {
      state.signing = false; // no keys on this server: stop asking
      $("signed-expiry").textContent = "signing needs API keys (authentication on)";
    }
    say("share-status", `No signed URL: ${error.message}`, "failed");
    return;
  }
  say("share-status", "");
}

function shellQuote(text) {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

function curlLine(body, format) {
  const ext = format === "jpeg" ? "jpg" : format;
  return [
    `curl -s ${shellQuote(`${location.origin}/v1/renders`)} \\`,
    `  -H "Authorization: Bearer $PD_KEY" -H 'Content-Type: application/json' \\`,
    `  -H 'Accept: image/${format}' -o ${body.template}.${ext} \\`,
    `  -d ${shellQuote(JSON.stringify({ ...body, format }))}`,
  ].join("\n");
}

function pythonSnippet(body, format) {
  const ext = format === "jpeg" ? "jpg" : format;
  const json = JSON.stringify({ ...body, format }, null, 4).replace(/\n/g, "\n    ");
  const literal = json.replace(/\btrue\b/g, "True").replace(/\bfalse\b/g, "False").replace(/\bnull\b/g, "None");
  return [
    "import json, os, urllib.request",
    "",
    "request = urllib.request.Request(",
    `    ${JSON.stringify(`${location.origin}/v1/renders`)},`,
    `    data=json.dumps(${literal}).encode(),`,
    "    headers={",
    '        "Authorization": f"Bearer {os.environ[\'PD_KEY\']}",',
    '        "Content-Type": "application/json",',
    `        "Accept": "image/${format}",`,
    "    },",
    ")",
    `with urllib.request.urlopen(request) as answer, open("${body.template}.${ext}", "wb") as out:`,
    "    out.write(answer.read())",
  ].join("\n");
}

async function download(format) {
  if (!state.template) return;
  const body = { ...payload(), format };
  say("share-status", `Rendering ${format.toUpperCase()}…`);
  try {
    const created = await (await api("/v1/renders", { method: "POST", body })).json();
    const blob = await (await api(created.url, { accept: "*/*" })).blob();
    const url = URL.createObjectURL(blob);
    const ext = MIME_EXT[blob.type] || format;
    const link = h("a", { href: url, download: `${body.template}.${ext}`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    say("share-status", `Downloaded ${body.template}.${ext} (${formatBytes(blob.size)}).`);
  } catch (error) {
    say("share-status", `Could not download ${format.toUpperCase()}: ${error.message}`, "failed");
  }
}

async function copy(id, button) {
  const text = $(id).textContent;
  if (!text) return;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const range = document.createRange();
    range.selectNodeContents($(id));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    document.execCommand("copy");
  }
  const label = button.textContent;
  button.textContent = "Copied";
  button.classList.add("done");
  say("share-status", `Copied the ${id.replace("-snippet", "").replace("-", " ")}.`);
  setTimeout(() => { button.textContent = label; button.classList.remove("done"); }, 1500);
}

function say(id, text, kind = "") {
  const node = $(id);
  node.textContent = text;
  node.classList.toggle("failed", kind === "failed");
}

// ---- uploads -------------------------------------------------------------------------

const upload = { file: null, data: null };

async function pickUpload(file) {
  if (!file) return;
  // Read it now, and let the same file be picked again after an edit in Inkscape.
  upload.file = file;
  upload.data = await file.arrayBuffer();
  $("upload-file").value = "";
  $("drop-file").textContent = `${file.name} · ${formatBytes(file.size)}`;
  const stem = file.name.replace(/\.svg$/i, "").toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^[-_]+|-+$/g, "").slice(0, 64);
  $("upload-id").value = stem || "template";
  $("upload-save").disabled = false;
  $("findings").replaceChildren();
  $("compare").hidden = true;
  say("upload-status", `Ready to check ${file.name}.`);
}

async function saveUpload(event) {
  event.preventDefault();
  const id = $("upload-id").value.trim();
  if (!upload.file || !$("upload-id").checkValidity() || !id) {
    say("upload-status", "Pick an SVG and give it an id: lower-case letters, digits, - and _.", "failed");
    return;
  }
  $("upload-save").disabled = true;
  say("upload-status", `Checking ${upload.file.name}…`);
  $("findings").replaceChildren();
  $("compare").hidden = true;
  const existing = state.templates.find((t) => t.id === id);
  // Lossless previews for the comparison, so only real changes show red.
  const comparePreview = () => imageBlob(`/v1/templates/${encodeURIComponent(id)}/preview?width=${Math.min(COMPARE_WIDTH, existing.width)}`, undefined, "image/png");
  let before = null;
  if (existing) {
    try { before = await comparePreview(); } catch { before = null; }
  }
  try {
    const response = await api(`/v1/templates/${encodeURIComponent(id)}`, { method: "PUT", raw: upload.data });
    const saved = await response.json();
    const warnings = saved.findings || [];
    showFindings(warnings.map((f) => ({
      severity: f.severity, title: f.what, detail: f.why, where: [f.element_id && `#${f.element_id}`, f.line && `line ${f.line}`].filter(Boolean).join(", "),
    })));
    say("upload-status", `${saved.replaced ? "Replaced" : "Uploaded"} ${id} (${saved.template.width}×${saved.template.height}, ${saved.template.fields.length} fields)${warnings.length ? `, with ${warnings.length} finding${warnings.length === 1 ? "" : "s"}` : ", no findings"}.`);
    await loadGallery();
    if (before) {
      const after = await comparePreview();
      await compare(before, after);
    }
  } catch (error) {
    const errors = error.body?.errors || [];
    showFindings(errors.length
      ? errors.map((e) => ({ severity: "error", title: e.message, where: e.field }))
      : [{ severity: "error", title: error.message }]);
    say("upload-status", `Not saved: ${error.message}`, "failed");
  } finally {
    $("upload-save").disabled = false;
  }
}

function showFindings(findings) {
  $("findings").replaceChildren(...findings.map((f) => h("li", { class: `finding ${f.severity}` },
    h("span", { class: "severity" }, f.severity),
    h("span", { class: "finding-body" },
      h("strong", {}, f.title),
      f.detail ? h("span", {}, ` ${f.detail}`) : null,
      f.where ? h("span", { class: "where mono" }, f.where) : null))));
}

async function compare(beforeBlob, afterBlob) {
  const [a, b] = await Promise.all([createImageBitmap(beforeBlob), createImageBitmap(afterBlob)]);
  const width = Math.max(a.width, b.width);
  const height = Math.max(a.height, b.height);
  const draw = (id, bitmap) => {
    const canvas = $(id);
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.clearRect(0, 0, width, height);
    if (bitmap) ctx.drawImage(bitmap, 0, 0);
    return ctx;
  };
  const pa = draw("compare-old", a).getImageData(0, 0, width, height).data;
  const pb = draw("compare-new", b).getImageData(0, 0, width, height).data;
  const diffCtx = draw("compare-diff", b);
  const out = diffCtx.getImageData(0, 0, width, height);
  const d = out.data;
  let changed = 0;
  for (let i = 0; i < d.length; i += 4) {
    const delta = Math.abs(pa[i] - pb[i]) + Math.abs(pa[i + 1] - pb[i + 1]) + Math.abs(pa[i + 2] - pb[i + 2]) + Math.abs(pa[i + 3] - pb[i + 3]);
    if (delta > 24) {
      changed++;
      d[i] = 230; d[i + 1] = 30; d[i + 2] = 40; d[i + 3] = 255;
    } else {
      // the unchanged image, faded, so the red stands out
      const grey = (d[i] + d[i + 1] + d[i + 2]) / 3;
      d[i] = d[i + 1] = d[i + 2] = 255 - (255 - grey) * 0.25;
      d[i + 3] = 255;
    }
  }
  diffCtx.putImageData(out, 0, 0);
  const share = (100 * changed) / (width * height);
  $("compare-caption").textContent = changed
    ? `Difference: ${changed.toLocaleString()} pixels (${share.toFixed(2)}%) in red`
    : "Difference: none, pixel for pixel";
  $("compare").hidden = false;
}

// ---- wiring --------------------------------------------------------------------------

function wire() {
  $("key-change").addEventListener("click", () => toggleKeyPanel($("key-panel").hidden));
  $("key-form").addEventListener("submit", (event) => { event.preventDefault(); setKey($("key-input").value); });
  $("key-forget").addEventListener("click", () => setKey(""));
  $("fields-form").addEventListener("input", () => update());
  $("fields-form").addEventListener("change", (event) => { if (event.target.type === "checkbox") update(); });
  $("fields-form").addEventListener("submit", (event) => event.preventDefault());
  $("reset-fields").addEventListener("click", () => state.template && choose(state.template.id));
  $("url-format").addEventListener("change", () => state.template && share(payload()));
  $("url-ttl").addEventListener("change", () => state.template && share(payload()));
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", () => copy(button.dataset.copy, button));
  }
  for (const button of document.querySelectorAll("[data-download]")) {
    button.addEventListener("click", () => download(button.dataset.download));
  }
  const drop = $("drop");
  $("upload-file").addEventListener("change", () => pickUpload($("upload-file").files[0]));
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => { event.preventDefault(); drop.classList.add("over"); });
  }
  for (const name of ["dragleave", "drop"]) {
    drop.addEventListener(name, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (event) => { event.preventDefault(); pickUpload(event.dataTransfer.files[0]); });
  $("upload-form").addEventListener("submit", saveUpload);
  addEventListener("hashchange", () => { if (new URLSearchParams(location.hash.slice(1)).has("key")) { loadKey(); loadGallery(); } });
}

wire();
loadKey();
loadGallery();
