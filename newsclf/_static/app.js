// newsclf page: classify an article (or a JSONL file of texts) through the
// server's JSON API and show each paragraph with its label.  No framework, no
// build step; every URL is relative, so the app can be mounted under a prefix.
"use strict";

(() => {
  // Label colours, given out in the model's label order; all are >= 5:1
  // against white.  The label whose paragraphs the server strips gets grey.
  const PALETTE = ["#1d5fa8", "#1e7a3c", "#b3261e", "#6b4fa0", "#8a5a00", "#00707a", "#a0306e"];
  const NEUTRAL = "#57606a";
  const BOILERPLATE = "boilerplate";
  const TOP = 10;

  const $ = (id) => document.getElementById(id);
  const state = { model: null, colours: {}, rows: [], stripped: "", selected: null, token: 0, running: false };

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    node.append(...children);
    return node;
  }

  function say(message, error = false) {
    $("status").textContent = message;
    $("status").classList.toggle("error", error);
  }

  async function api(path, body) {
    const init =
      body === undefined
        ? {}
        : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    const response = await fetch(path, init);
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new Error(data?.detail || data?.error || `HTTP ${response.status}`);
    if (data === null) throw new Error("جاء ردّ الخادم ناقصاً أو بغير JSON");
    return data;
  }

  const colour = (label) => state.colours[label] || NEUTRAL;
  const chip = (label) => el("span", { class: "chip", lang: "en", dir: "ltr", style: `--c:${colour(label)}` }, label);
  const bar = (score, label) =>
    el("span", { class: "bar", "aria-hidden": "true" }, el("span", { style: `width:${(score * 100).toFixed(1)}%;--c:${colour(label)}` }));

  async function loadModel() {
    const m = await api("v1/model");
    state.model = m;
    let next = 0;
    for (const label of m.labels) {
      state.colours[label] = label === BOILERPLATE ? NEUTRAL : PALETTE[next++ % PALETTE.length];
    }
    $("model").replaceChildren("النموذج: ", el("bdi", { lang: "en" }, m.name), ` · عتبة الشك ${m.threshold}`);
    $("legend").replaceChildren(...m.labels.map((label) => el("li", {}, chip(label))));
  }

  // One request at a time: while one runs, the button, the shortcut and the
  // file picker do nothing (an older answer arriving last would otherwise
  // replace the newer one's results).
  async function busy(work) {
    if (state.running) return;
    state.running = true;
    const controls = [$("classify"), $("file")];
    controls.forEach((c) => (c.disabled = true));
    say("جارٍ التصنيف…");
    try {
      if (!state.model) await loadModel(); // it failed when the page opened: ask again
      await work();
    } catch (err) {
      say(`تعذّر التصنيف: ${err.message}`, true);
    } finally {
      state.running = false;
      controls.forEach((c) => (c.disabled = false));
    }
  }

  function classifyArticle() {
    const text = $("article").value;
    if (!text.trim()) {
      say("الصق نص مقال أولاً.", true);
      return Promise.resolve();
    }
    const title = $("title").value.trim();
    return busy(async () => {
      const r = await api("v1/articles", title ? { text, title } : { text });
      show(r.paragraphs, r.stripped);
    });
  }

  // A lone surrogate is not Unicode: the server refuses a text holding one.
  const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

  // JSONL records, each one text: sent in requests within the server's limits.
  // A record the server would refuse (not Unicode, or alone over its body
  // limit) is skipped and counted with the lines that hold no text; if a
  // request still fails, the rows classified before it stay, and the error
  // names the file's lines it held.
  async function classifyRecords(records, skipped) {
    const { max_texts: maxTexts, max_body: maxBody } = state.model.limits;
    const encoder = new TextEncoder();
    const rows = [];
    const showRows = () => show(rows, rows.filter((r) => r.label !== BOILERPLATE).map((r) => r.text).join("\n\n"));
    let chunk = [];
    let bytes = 0;
    const flush = async () => {
      let r;
      try {
        r = await api("v1/classify", { texts: chunk.map((rec) => rec.text) });
      } catch (err) {
        showRows();
        // This request's lines and every later one were not classified.
        const last = records[records.length - 1].line;
        throw new Error(`${err.message} (لم تُصنَّف السطور ${chunk[0].line}–${last})`);
      }
      r.results.forEach((res, j) => rows.push({ index: rows.length, line: chunk[j].line, text: chunk[j].text, ...res }));
      chunk = [];
      bytes = 0;
    };
    for (const rec of records) {
      const size = encoder.encode(JSON.stringify(rec.text)).length + 1;
      if (size > maxBody - 64 || LONE_SURROGATE.test(rec.text)) {
        skipped.push(rec.line);
        continue;
      }
      if (chunk.length && (chunk.length >= maxTexts || bytes + size > maxBody - 64)) await flush();
      chunk.push(rec);
      bytes += size;
    }
    if (chunk.length) await flush();
    showRows();
    if (skipped.length) {
      const first = skipped.reduce((a, b) => Math.min(a, b));
      say(`صُنِّف ${rows.length} سجلاً؛ تُخطّي ${skipped.length} سطراً بلا نص صالح أو أكبر من حدّ الخادم (أولها السطر ${first}).`);
    }
  }

  async function openFile(file) {
    if (state.running) return;
    // Records the page does not read (as newsclf classify would, by extension):
    // never shown as one article.
    if (/\.(csv|tsv|parquet|gz|zip)$/i.test(file.name)) {
      say(`لا تقرأ الصفحة هذا النوع من الملفات (${file.name}): افتح مقالاً ‎.txt أو سجلات ‎.jsonl، أو صنّفه بالأمر newsclf classify`, true);
      return;
    }
    const text = await file.text();
    if (!/\.(jsonl|ndjson)$/i.test(file.name)) {
      $("article").value = text;
      $("title").value = "";
      return classifyArticle();
    }
    const records = [];
    const skipped = [];
    // Line ends and blank lines as newsclf classify reads JSONL: a lone \r ends a
    // line too, and only JSON's own white space makes a line blank.
    text.split(/\r\n|\r|\n/).forEach((line, i) => {
      if (/^[ \t]*$/.test(line)) return;
      try {
        const rec = JSON.parse(line);
        if (rec && typeof rec.text === "string") records.push({ line: i + 1, text: rec.text });
        else skipped.push(i + 1);
      } catch {
        skipped.push(i + 1);
      }
    });
    $("article").value = "";
    return busy(() => classifyRecords(records, skipped));
  }

  function paragraphItem(row, position) {
    const meta = el(
      "div",
      { class: "meta" },
      el("span", { class: "num" }, `¶${row.index}`),
      chip(row.label),
      bar(row.score, row.label),
      el("span", { class: "score" }, row.score.toFixed(2)),
    );
    if (row.uncertain) meta.append(el("span", { class: "flag", title: "الدرجة دون عتبة الشك" }, "؟ غير مؤكد"));
    return el(
      "li",
      {
        class: `para${row.uncertain ? " uncertain" : ""}`,
        tabindex: "0",
        role: "button",
        "aria-expanded": "false",
        "aria-controls": "explain",
        "data-label": row.label,
        "data-position": String(position),
        style: `--c:${colour(row.label)}`,
      },
      meta,
      el("p", { dir: "auto" }, row.text),
    );
  }

  function show(rows, stripped) {
    state.rows = rows;
    state.stripped = stripped;
    $("paragraphs").replaceChildren(...rows.map(paragraphItem));
    const counts = {};
    for (const row of rows) counts[row.label] = (counts[row.label] || 0) + 1;
    const uncertain = rows.filter((r) => r.uncertain).length;
    $("summary").textContent =
      `${rows.length} فقرة: ` +
      Object.entries(counts).map(([label, n]) => `${label} ${n}`).join(" · ") +
      (uncertain ? ` · غير مؤكد ${uncertain}` : "");
    $("results").hidden = false;
    applyHide();
    closeExplain(false);
    say(`صُنِّفت ${rows.length} فقرة.`);
  }

  function applyHide() {
    const hide = $("hide-boilerplate").checked;
    for (const li of $("paragraphs").children) li.hidden = hide && li.dataset.label === BOILERPLATE;
  }

  function explanation(row, r) {
    const out = [el("blockquote", { dir: "auto" }, row.text.length > 300 ? `${row.text.slice(0, 300)}…` : row.text)];
    const verdict = el("p", {}, "الفقرة وحدها: ", chip(r.label), ` ${r.score.toFixed(2)}`);
    if (r.uncertain) verdict.append(" ", el("span", { class: "flag" }, "؟ غير مؤكد"));
    if (r.label !== row.label) verdict.append(" · في سياق المقال: ", chip(row.label));
    out.push(verdict);
    const scores = el("div", { class: "scores" });
    for (const [label, p] of Object.entries(r.scores).sort((a, b) => b[1] - a[1])) {
      scores.append(chip(label), bar(p, label), el("span", { class: "num" }, p.toFixed(3)));
    }
    out.push(scores);
    const order = [r.label, ...Object.keys(r.features).filter((label) => label !== r.label)];
    order.forEach((label, i) => {
      const feats = r.features[label] || [];
      const list = feats.length
        ? el("ol", {}, ...feats.map(([ngram, value]) => el("li", {}, el("bdi", {}, ngram), el("span", { class: "num" }, `+${value.toFixed(3)}`))))
        : el("p", { class: "hint" }, "لا شيء.");
      const heading = ["الكلمات التي دفعت نحو ", chip(label)];
      if (i === 0) {
        out.push(el("h3", {}, ...heading), list);
        if (!feats.length) list.textContent = "لا كلمة يعرفها النموذج في هذه الفقرة؛ الدرجات هي التوزيع المسبق.";
      } else {
        out.push(el("details", {}, el("summary", {}, ...heading), list));
      }
    });
    return out;
  }

  async function explain(li) {
    const row = state.rows[Number(li.dataset.position)];
    const token = ++state.token;
    for (const other of $("paragraphs").children) other.setAttribute("aria-expanded", String(other === li));
    state.selected = li;
    const panel = $("explain");
    panel.hidden = false;
    $("explain-body").replaceChildren(el("p", { class: "hint" }, "جارٍ التحميل…"));
    try {
      const r = await api("v1/explain", { text: row.text, top: TOP });
      if (token === state.token) $("explain-body").replaceChildren(...explanation(row, r));
    } catch (err) {
      if (token === state.token) $("explain-body").replaceChildren(el("p", { class: "status error" }, err.message));
    }
    if (token === state.token) panel.focus();
  }

  function closeExplain(refocus = true) {
    $("explain").hidden = true;
    const li = state.selected;
    state.selected = null;
    if (!li) return;
    li.setAttribute("aria-expanded", "false");
    if (refocus && li.isConnected) li.focus();
  }

  async function copyClean() {
    try {
      await navigator.clipboard.writeText(state.stripped);
    } catch {
      // Not a secure context (e.g. served on a LAN address): the old way.
      const area = el("textarea", { "aria-hidden": "true" });
      area.value = state.stripped;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    say("نُسخ النص النظيف (دون النصوص الدعائية).");
  }

  function download() {
    const lines = state.rows.map((row) => JSON.stringify(row)).join("\n") + "\n";
    const url = URL.createObjectURL(new Blob([lines], { type: "application/x-ndjson" }));
    const link = el("a", { href: url, download: "newsclf.jsonl" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function paragraphEvent(event) {
    const li = event.target.closest(".para");
    if (!li) return;
    if (event.type === "keydown") {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
    }
    explain(li);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("classify").addEventListener("click", classifyArticle);
    $("article").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) classifyArticle();
    });
    $("file").addEventListener("change", (e) => {
      const file = e.target.files[0];
      e.target.value = "";
      if (file) openFile(file);
    });
    $("hide-boilerplate").addEventListener("change", applyHide);
    $("copy").addEventListener("click", copyClean);
    $("download").addEventListener("click", download);
    $("paragraphs").addEventListener("click", paragraphEvent);
    $("paragraphs").addEventListener("keydown", paragraphEvent);
    $("close-explain").addEventListener("click", () => closeExplain());
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !$("explain").hidden) closeExplain();
    });
    loadModel().catch((err) => say(`تعذّر تحميل النموذج: ${err.message}`, true));
  });
})();
