// twitchwatch live dashboard: plain JavaScript, no framework, no build step.
// Contract: docs/dashboard.md (HTTP API, WebSocket messages, element ids).
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const PALETTE = ["#2f6f8f", "#b5651d", "#4a8a4a", "#7a5c99", "#a33f5f", "#3c8c8c", "#8a7a2a", "#5a6a7a"];
  const MAX_EVENTS = 50;

  // ------------------------------------------------------------------ helpers
  // Create an element with optional class and text.
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const isNum = (v) => typeof v === "number" && Number.isFinite(v);
  const fmt = (v, digits = 0) => (isNum(v) ? v.toFixed(digits) : "—");
  const asList = (v) => (Array.isArray(v) ? v : v === null || v === undefined || v === "" ? [] : [v]);

  function fmtDuration(s) {
    if (!isNum(s)) return "—";
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const mm = String(m).padStart(2, "0"), ss = String(sec).padStart(2, "0");
    return h ? `${h}:${mm}:${ss}` : `${m}:${ss}`;
  }
  // Unix seconds (or an ISO string) → local date-time text with its zone (every time
  // shown says its zone, as on the command line and in the report).
  function fmtWhen(v, withDate) {
    const d = isNum(v) ? new Date(v * 1000) : v ? new Date(v) : null;
    if (!d || isNaN(d.getTime())) return v ? String(v) : "—";
    const zone = { timeZoneName: "short" };
    return withDate ? d.toLocaleString(undefined, zone) : d.toLocaleTimeString(undefined, zone);
  }
  function eventTime(ev) {
    if (isNum(ev.wall_time_s)) return fmtWhen(ev.wall_time_s, false);
    return isNum(ev.t_s) ? `t = ${ev.t_s.toFixed(2)} s` : "—";
  }
  // One stable colour per channel label.
  const labelColours = new Map();
  function colourFor(label) {
    if (!labelColours.has(label)) labelColours.set(label, PALETTE[labelColours.size % PALETTE.length]);
    return labelColours.get(label);
  }
  // Round up to 1, 2 or 5 × 10^n (a calm, readable scale).
  function niceCeil(x) {
    if (!(x > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(x)));
    const f = x / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }

  // ------------------------------------------------------------------ token
  function readToken() {
    const meta = document.querySelector('meta[name="twitchwatch-token"]');
    const fromMeta = meta ? meta.getAttribute("content") || "" : "";
    if (fromMeta && fromMeta !== "{{TOKEN}}") return fromMeta;
    const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (m) {
      const tok = decodeURIComponent(m[1]);
      try { sessionStorage.setItem("twitchwatch-token", tok); } catch (_) { /* storage off */ }
      history.replaceState(null, "", location.pathname + location.search);
      return tok;
    }
    try { return sessionStorage.getItem("twitchwatch-token") || ""; } catch (_) { return ""; }
  }
  const TOKEN = readToken();

  function showTokenProblem(text) {
    const box = $("token-message");
    box.textContent = text;
    box.hidden = false;
  }

  // ------------------------------------------------------------------ HTTP API
  // Returns {ok, status, data}; data.error holds the server's message on failure.
  async function api(method, path, body) {
    const opts = { method, headers: { "X-Twitchwatch-Token": TOKEN }, cache: "no-store" };
    if (method === "POST") {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body || {});
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (err) {
      return { ok: false, status: 0, data: { error: "cannot reach the twitchwatch server (is it still running?)" } };
    }
    let data = null;
    try { data = await res.json(); } catch (_) { data = null; }
    if (!res.ok || !data) {
      const error = data && data.error ? data.error : `HTTP ${res.status} ${res.statusText}`.trim();
      return { ok: false, status: res.status, data: { error } };
    }
    return { ok: true, status: res.status, data };
  }

  // ------------------------------------------------------------------ WebSocket
  const live = { ws: null, state: "connecting", backoffMs: 1000, retryAt: 0, retryTimer: null, stop: false };

  function setLinkState(state, detail) {
    live.state = state;
    const badge = $("link-badge");
    const text = { connected: "live", connecting: "connecting…", retry: detail || "reconnecting…", closed: detail || "disconnected" }[state] || state;
    badge.textContent = text;
    badge.className = "badge " + (state === "connected" ? "on" : state === "closed" ? "bad" : "off");
    renderLink();
  }

  function connect() {
    if (live.stop) return;
    setLinkState("connecting");
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    let ws;
    try { ws = new WebSocket(`${proto}//${location.host}/ws`); } catch (_) { scheduleReconnect(); return; }
    live.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ token: TOKEN }));
      live.backoffMs = 1000;
      setLinkState("connected");
    };
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch (_) { return; }
      handleMessage(msg);
    };
    ws.onclose = (e) => {
      if (live.ws !== ws) return;
      live.ws = null;
      if (e.code === 4403) {
        live.stop = true;
        setLinkState("closed", "access refused");
        showTokenProblem("The server refused this page's access token. Open the full link printed by twitchwatch (including the part after #).");
        return;
      }
      scheduleReconnect();
    };
    ws.onerror = () => { /* onclose follows and reconnects */ };
  }

  // Reconnect after 1 s, 2 s, 4 s, 8 s, then every 10 s; the badge counts down.
  function scheduleReconnect() {
    const delay = live.backoffMs;
    live.backoffMs = Math.min(live.backoffMs * 2, 10000);
    live.retryAt = Date.now() + delay;
    clearInterval(live.retryTimer);
    const tick = () => {
      const left = Math.max(0, Math.ceil((live.retryAt - Date.now()) / 1000));
      setLinkState("retry", `disconnected, retrying in ${left} s`);
      if (Date.now() >= live.retryAt) { clearInterval(live.retryTimer); connect(); }
    };
    live.retryTimer = setInterval(tick, 250);
    tick();
  }

  function send(obj) {
    if (live.ws && live.ws.readyState === WebSocket.OPEN) live.ws.send(JSON.stringify(obj));
  }

  function handleMessage(msg) {
    switch (msg.type) {
      case "hello": onHello(msg); break;
      case "trace": onTrace(msg); break;
      case "event": addEvent(msg.event); break;
      case "event_causes": onEventCauses(msg); break;
      case "status": onStatus(msg); break;
      case "ended": onEnded(msg); break;
      default: break;
    }
  }

  // ------------------------------------------------------------------ canvases
  const view = { hello: null, pending: null, rafQueued: false, framesDrawn: 0, scales: {}, accScale: null, lastFrame: null };

  // Size the canvas backing store to its CSS box × devicePixelRatio; return a 2D context in CSS pixels.
  function prepCanvas(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, canvas.clientWidth), h = Math.max(1, canvas.clientHeight);
    const bw = Math.round(w * dpr), bh = Math.round(h * dpr);
    if (canvas.width !== bw || canvas.height !== bh) { canvas.width = bw; canvas.height = bh; }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px system-ui, sans-serif";
    return { ctx, w, h };
  }

  const PAD = { left: 78, right: 10, top: 6, bottom: 18 };

  // Grid lines and "-5 s … 0" labels along the bottom.
  function drawTimeAxis(ctx, x0, plotW, top, bottom, windowS) {
    if (!(windowS > 0)) return;
    const step = windowS > 30 ? 10 : windowS > 12 ? 2 : 1;
    ctx.strokeStyle = "#e6eae8";
    ctx.fillStyle = "#66737c";
    ctx.lineWidth = 1;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (let s = 0; s <= windowS + 1e-9; s += step) {
      const x = Math.round(x0 + plotW * (1 - s / windowS)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke();
      ctx.fillText(s === 0 ? "0" : `-${s} s`, Math.min(Math.max(x, x0 + 12), x0 + plotW - 8), bottom + 3);
    }
  }

  // Min/max columns as vertical lines; null columns stay empty. yOf maps a value to pixels.
  function drawColumns(ctx, mins, maxs, x0, colW, yOf, colour) {
    ctx.strokeStyle = colour;
    ctx.lineWidth = Math.max(1, colW);
    ctx.beginPath();
    const n = Math.min(mins.length, maxs.length);
    for (let i = 0; i < n; i++) {
      const lo = mins[i], hi = maxs[i];
      if (lo === null || hi === null || lo === undefined || hi === undefined) continue;
      const x = x0 + (i + 0.5) * colW;
      let y1 = yOf(hi), y2 = yOf(lo);
      if (y2 - y1 < 1) { y1 -= 0.5; y2 += 0.5; }
      ctx.moveTo(x, y1); ctx.lineTo(x, y2);
    }
    ctx.stroke();
  }

  // Per-label scale: jumps up at once, relaxes slowly (no jitter).
  function channelScale(label, mins, maxs) {
    let peak = 0;
    for (let i = 0; i < mins.length; i++) {
      const a = mins[i], b = maxs[i];
      if (a !== null && a !== undefined) peak = Math.max(peak, Math.abs(a));
      if (b !== null && b !== undefined) peak = Math.max(peak, Math.abs(b));
    }
    const want = niceCeil(peak * 1.1 || 10);
    const prev = view.scales[label];
    const next = !prev || want > prev ? want : prev * 0.995 < want ? prev : niceCeil(prev * 0.995);
    view.scales[label] = next;
    return next;
  }

  function drawTrace(frame) {
    const canvas = $("trace");
    const emg = Array.isArray(frame.emg) ? frame.emg : [];
    const n = Math.max(1, emg.length);
    canvas.style.height = `${Math.min(520, Math.max(200, 130 * n + 20))}px`;
    const { ctx, w, h } = prepCanvas(canvas);
    const columns = frame.columns || (emg[0] && emg[0].min ? emg[0].min.length : 1000);
    const windowS = frame.window_s || (view.hello && view.hello.window_s) || 5;
    const x0 = PAD.left, plotW = w - PAD.left - PAD.right;
    const top = PAD.top, bottom = h - PAD.bottom;
    const colW = plotW / columns;
    drawTimeAxis(ctx, x0, plotW, top, bottom, windowS);
    if (!emg.length) {
      ctx.fillStyle = "#66737c"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
      ctx.fillText("no EMG channels", x0 + plotW / 2, (top + bottom) / 2);
    }
    const bandH = (bottom - top) / n;
    const markerSpace = 12;
    const bands = emg.map((ch, i) => {
      const bTop = top + i * bandH;
      const yTop = bTop + markerSpace, yBot = bTop + bandH - 4;
      const mid = (yTop + yBot) / 2, half = (yBot - yTop) / 2;
      const mins = ch.min || [], maxs = ch.max || [];
      const scale = channelScale(ch.label, mins, maxs);
      const yOf = (v) => mid - Math.max(-1, Math.min(1, v / scale)) * half;
      // zero line, channel separator, label and µV scale
      ctx.strokeStyle = "#eef1ef"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x0, Math.round(mid) + 0.5); ctx.lineTo(x0 + plotW, Math.round(mid) + 0.5); ctx.stroke();
      if (i > 0) {
        ctx.strokeStyle = "#d9dedb";
        ctx.beginPath(); ctx.moveTo(0, Math.round(bTop) + 0.5); ctx.lineTo(w, Math.round(bTop) + 0.5); ctx.stroke();
      }
      const colour = colourFor(ch.label);
      ctx.textAlign = "left"; ctx.textBaseline = "middle";
      ctx.fillStyle = colour; ctx.font = "bold 12px system-ui, sans-serif";
      ctx.fillText(String(ch.label ?? `ch ${i}`), 6, mid - 8);
      ctx.fillStyle = "#66737c"; ctx.font = "11px system-ui, sans-serif";
      ctx.fillText(`±${scale >= 1000 ? (scale / 1000) + " mV" : scale + " µV"}`, 6, mid + 8);
      drawColumns(ctx, mins, maxs, x0, colW, yOf, colour);
      return { bTop, colour };
    });
    // twitch markers: small triangles above their channel
    let drawn = 0;
    const drawnTimes = [];  // channel:t_s of each marker drawn (data-marker-times, for tests)
    for (const m of Array.isArray(frame.markers) ? frame.markers : []) {
      const band = bands[m.channel];
      if (!band || !isNum(m.t_s) || !isNum(frame.t_end_s)) continue;
      const col = columns * (1 - (frame.t_end_s - m.t_s) / windowS);
      if (col < 0 || col > columns) continue;
      const x = x0 + col * colW, y = band.bTop + 2;
      ctx.fillStyle = "#c0392b";
      ctx.beginPath(); ctx.moveTo(x - 5, y); ctx.lineTo(x + 5, y); ctx.lineTo(x, y + 8); ctx.closePath(); ctx.fill();
      drawn++;
      drawnTimes.push(`${m.channel}:${m.t_s.toFixed(4)}`);
    }
    canvas.dataset.markers = String(drawn);
    canvas.dataset.markerTimes = drawnTimes.join(",");
  }

  function drawAcc(frame) {
    const canvas = $("acc");
    const { ctx, w, h } = prepCanvas(canvas);
    const windowS = frame.window_s || 5;
    const x0 = PAD.left, plotW = w - PAD.left - PAD.right;
    const top = PAD.top + 4, bottom = h - PAD.bottom;
    drawTimeAxis(ctx, x0, plotW, top, bottom, windowS);
    const acc = frame.acc;
    if (!acc || !Array.isArray(acc.min) || !Array.isArray(acc.max)) {
      ctx.fillStyle = "#66737c"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
      ctx.fillText(view.hello && view.hello.has_acc === false ? "this device has no accelerometer" : "no accelerometer data", x0 + plotW / 2, (top + bottom) / 2);
      return;
    }
    // range from the data, rounded outwards; relaxes slowly like the EMG scale
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < acc.min.length; i++) {
      if (acc.min[i] !== null && acc.min[i] !== undefined) lo = Math.min(lo, acc.min[i]);
      if (acc.max[i] !== null && acc.max[i] !== undefined) hi = Math.max(hi, acc.max[i]);
    }
    if (!(hi >= lo)) { lo = 0; hi = 1000; }
    const span = niceCeil(Math.max(20, (hi - lo) * 1.2));
    let s = view.accScale;
    if (!s || lo < s.lo || hi > s.hi || span < (s.hi - s.lo) / 4) {
      const centre = (lo + hi) / 2;
      const base = Math.floor((centre - span / 2) / (span / 10)) * (span / 10);
      s = view.accScale = { lo: base, hi: base + span + span / 10 };
    }
    const yOf = (v) => bottom - ((v - s.lo) / (s.hi - s.lo)) * (bottom - top);
    ctx.fillStyle = "#66737c"; ctx.textAlign = "left"; ctx.textBaseline = "middle";
    ctx.fillText(`${Math.round(s.hi)} mg`, 6, top + 4);
    ctx.fillText(`${Math.round(s.lo)} mg`, 6, bottom - 4);
    const columns = frame.columns || acc.min.length;
    drawColumns(ctx, acc.min, acc.max, x0, plotW / columns, yOf, "#5a6a7a");
  }

  function onHello(msg) {
    view.hello = msg;
    view.scales = {};
    view.accScale = null;
    (msg.emg_labels || []).forEach(colourFor);
    loadSessions();  // a (re)described device usually means a new session in the store
  }

  // Keep only the newest frame; draw it on the next animation frame, then ack it.
  function onTrace(frame) {
    view.pending = frame;
    if (view.rafQueued) return;
    view.rafQueued = true;
    requestAnimationFrame(() => {
      view.rafQueued = false;
      const f = view.pending;
      view.pending = null;
      if (!f) return;
      drawTrace(f);
      drawAcc(f);
      view.lastFrame = f;
      view.framesDrawn++;
      $("trace").dataset.framesDrawn = String(view.framesDrawn);
      send({ type: "drawn", id: f.id });
    });
  }

  // Redraw the last frame after a resize (no ack: it was already counted).
  window.addEventListener("resize", () => {
    if (view.lastFrame && !view.rafQueued) { drawTrace(view.lastFrame); drawAcc(view.lastFrame); }
    if (hist.data) drawHistoryRate(hist.data);
  });

  // ------------------------------------------------------------------ status
  let lastStatus = null;

  function renderLink() {
    const page = { connected: "connected", connecting: "connecting", retry: "reconnecting", closed: "refused" }[live.state] || live.state;
    // the device's link is only known while this page is connected
    const known = live.state === "connected" && lastStatus && lastStatus.link !== undefined && lastStatus.link !== null;
    const dev = known ? String(lastStatus.link) : "unknown";
    $("st-link").textContent = `page ${page}, device ${dev}`;
  }

  // Signal quality per EMG channel: noise floor, mains hum, usable share, lead-off.
  function renderQuality(quality) {
    const box = $("st-quality");
    const labels = (view.hello && view.hello.emg_labels) || [];
    if (!Array.isArray(quality) || !quality.length) { box.textContent = "—"; box.className = ""; return; }
    let bad = false;
    box.textContent = quality.map((q) => {
      const name = labels[q.channel] ?? `ch ${q.channel}`;
      const parts = [isNum(q.noise_floor_uv) ? `noise ${q.noise_floor_uv.toFixed(1)} µV RMS` : "noise —"];
      if (isNum(q.mains_hz) && q.mains_hz > 0) parts.push(`${Math.round(q.mains_hz)} Hz hum ${fmt(q.mains_uv, 1)} µV`);
      if (isNum(q.usable_fraction)) parts.push(`usable ${Math.round(100 * q.usable_fraction)} %`);
      if (q.lead_off) parts.push("LEAD OFF");
      if (q.lead_off || (isNum(q.usable_fraction) && q.usable_fraction < 0.5)) bad = true;
      return `${name}: ${parts.join(", ")}`;
    }).join(" · ");
    box.className = bad ? "warn" : "";
  }

  function onStatus(st) {
    lastStatus = st;
    renderLink();
    $("st-elapsed").textContent = fmtDuration(st.device_elapsed_s);
    $("st-events").textContent = isNum(st.events) ? String(st.events) : "—";
    const probs = st.problems && typeof st.problems === "object" ? Object.entries(st.problems).filter(([, n]) => n) : [];
    $("st-problems").textContent = probs.length ? probs.map(([k, n]) => `${k} ${n}`).join(", ") : "none";
    $("st-missed").textContent = isNum(st.view_dropped) ? String(st.view_dropped) : "0";
    $("st-battery").textContent = isNum(st.battery_pct) ? `${Math.round(st.battery_pct)} %` : "—";
    renderQuality(st.quality || []);
    renderRedFlags(st.red_flags || []);
    renderRates(st.rates || {});
    renderCauses(st.causes || []);
  }

  let flagMessage = null;  // the outcome of the last "a doctor has seen this", kept across redraws

  function renderRedFlags(flags) {
    const box = $("red-flags");
    box.replaceChildren();
    if (!flags.length) { box.hidden = true; return; }
    box.appendChild(el("h2", null, "See a doctor about this"));
    for (const f of flags) {
      const d = el("div", "flag");
      d.appendChild(el("div", "flag-msg", f.message));
      const reasons = asList(f.reasons);
      if (reasons.length) {
        const ul = el("ul");
        reasons.forEach((r) => ul.appendChild(el("li", null, r)));
        d.appendChild(ul);
      }
      const looks = asList(f.looks_into);
      if (looks.length) d.appendChild(el("div", "tests", `A doctor may look into: ${looks.join("; ")}`));
      const tests = asList(f.tests);
      if (tests.length) d.appendChild(el("div", "tests", `Tests a doctor may order: ${tests.join("; ")}`));
      if (f.how_to_clear) d.appendChild(el("div", "tests", `(${f.how_to_clear})`));
      // the same as `twitchwatch log seen-doctor RULE`: gone everywhere until something new raises it
      const b = d.appendChild(el("button", "secondary seen-doctor", "A doctor has seen this"));
      b.type = "button";
      b.dataset.rule = f.rule_id;
      b.addEventListener("click", async () => {
        b.disabled = true;
        flagMessage = { cls: "verdict-msg", text: "saving…" };
        const r = await api("POST", "/api/seen-doctor", { rule_id: f.rule_id });
        b.disabled = false;
        flagMessage = r.ok
          ? { cls: "verdict-msg ok", text: `marked seen by a doctor: ${(r.data.marked || []).join(", ")}` }
          : { cls: "verdict-msg error", text: r.data.error };
        const shown = $("flag-message");
        if (shown) { shown.className = flagMessage.cls; shown.textContent = flagMessage.text; }
      });
      box.appendChild(d);
    }
    if (flagMessage) {
      const m = box.appendChild(el("div", flagMessage.cls, flagMessage.text));
      m.id = "flag-message";
      m.setAttribute("aria-live", "polite");
    }
    box.hidden = false;
  }

  function table(headers, rows) {
    const t = el("table");
    const tr = el("tr");
    headers.forEach(([text, num]) => tr.appendChild(el("th", num ? "num" : null, text)));
    t.appendChild(el("thead")).appendChild(tr);
    const body = t.appendChild(el("tbody"));
    for (const row of rows) {
      const r = body.appendChild(el("tr"));
      row.forEach((cell, i) => r.appendChild(el("td", headers[i][1] ? "num" : null, cell)));
    }
    return t;
  }

  const MAX_UNITS_SHOWN = 8;

  function renderRates(rates) {
    const box = $("rates");
    box.replaceChildren();
    const perCh = rates.per_channel || [], perUnit = rates.per_unit || [];
    box.appendChild(el("h3", null, "Per channel (twitches/min)"));
    if (perCh.length) {
      box.appendChild(table([["Channel"], ["Last minute", 1], ["Session average", 1]],
        perCh.map((c) => [c.label, fmt(c.last_min, 0), fmt(c.session_per_min, 1)])));
    } else box.appendChild(el("p", "muted", "No channels yet."));
    box.appendChild(el("h3", null, "Per motor unit"));
    if (perUnit.length) {
      const shown = perUnit.slice(0, MAX_UNITS_SHOWN);  // busiest first (the server sorts)
      box.appendChild(table([["Unit"], ["Channel"], ["Count", 1], ["Last minute", 1]],
        shown.map((u) => [u.unit_id ?? "—", u.channel_label ?? "—", fmt(u.count, 0), fmt(u.last_min, 0)])));
      const more = perUnit.length - shown.length + (rates.units_not_listed || 0);  // folded away by the server
      if (more > 0) {
        box.appendChild(el("p", "muted", `${more} more units with fewer twitches`));
      }
    } else box.appendChild(el("p", "muted", "No motor units identified yet."));
  }

  // Causes are kept by cause_id so verdict messages and focus survive the 1 s refresh.
  const causeNodes = new Map();

  function reasonList(items, cls, prefix) {
    const ul = el("ul", cls);
    asList(items).forEach((r) => ul.appendChild(el("li", null, prefix ? `${prefix}${r}` : r)));
    return ul;
  }

  function renderCauses(causes) {
    const box = $("causes");
    if (!causes.length) {
      causeNodes.clear();
      box.replaceChildren(el("p", "muted", "No candidate causes yet."));
      return;
    }
    const seen = new Set();
    const nodes = causes.map((c) => {
      seen.add(c.cause_id);
      let n = causeNodes.get(c.cause_id);
      if (!n) { n = makeCauseNode(c.cause_id); causeNodes.set(c.cause_id, n); }
      n.name.textContent = c.cause_name || c.cause_id;
      n.score.textContent = isNum(c.score) ? ` score ${c.score.toFixed(2)}` : "";
      const status = c.status || "suggested";
      n.status.textContent = status;
      n.status.className = `cause-status ${status}`;
      n.summary.textContent = c.summary || "";
      n.forList.replaceWith((n.forList = reasonList(c.reasons_for, "for", "for: ")));
      n.againstList.replaceWith((n.againstList = reasonList(c.reasons_against, "against", "against: ")));
      return n.root;
    });
    for (const id of [...causeNodes.keys()]) if (!seen.has(id)) causeNodes.delete(id);
    const placeholder = box.querySelector("p.muted");
    if (placeholder) placeholder.remove();
    nodes.forEach((node) => box.appendChild(node)); // appendChild moves existing nodes into order
    [...box.children].forEach((child) => { if (!nodes.includes(child)) child.remove(); });
  }

  function makeCauseNode(causeId) {
    const root = el("div", "cause");
    const head = root.appendChild(el("div"));
    const name = head.appendChild(el("span", "cause-name"));
    const score = head.appendChild(el("span", "muted"));
    const status = head.appendChild(el("span", "cause-status"));
    const summary = root.appendChild(el("div", "summary"));
    const forList = root.appendChild(el("ul"));
    const againstList = root.appendChild(el("ul"));
    const actions = root.appendChild(el("div", "actions"));
    const msg = el("span", "verdict-msg");
    msg.setAttribute("aria-live", "polite");
    for (const [verdict, label] of [["confirmed", "Confirm"], ["rejected", "Reject"]]) {
      const b = actions.appendChild(el("button", verdict === "rejected" ? "secondary" : null, label));
      b.type = "button";
      b.dataset.verdict = verdict;
      b.addEventListener("click", async () => {
        b.disabled = true;
        msg.className = "verdict-msg";
        msg.textContent = "saving…";
        const r = await api("POST", "/api/verdict", { cause_id: causeId, verdict });
        b.disabled = false;
        if (r.ok) {
          msg.className = "verdict-msg ok";
          msg.textContent = `${verdict} (${r.data.changed ?? 0} twitch annotation${r.data.changed === 1 ? "" : "s"} updated)`;
        } else {
          msg.className = "verdict-msg error";
          msg.textContent = r.data.error;
        }
      });
    }
    actions.appendChild(msg);
    return { root, name, score, status, summary, forList, againstList };
  }

  // ------------------------------------------------------------------ events
  // The top candidate causes under one twitch (replaced when the server re-ranks
  // after something was logged).
  function renderEventCauses(li, list) {
    const old = li.querySelector("ul.ev-causes");
    if (old) old.remove();
    const causes = Array.isArray(list) ? list.slice(0, 3) : [];
    if (!causes.length) return;
    const ul = li.appendChild(el("ul", "ev-causes"));
    for (const c of causes) {
      const item = ul.appendChild(el("li"));
      item.appendChild(el("span", "cause-name", c.cause_name || c.cause_id));
      item.appendChild(el("span", null, `${isNum(c.score) ? ` (${c.score.toFixed(2)})` : ""}${c.summary ? ": " + c.summary : ""}`));
      const reasons = asList(c.reasons_for);
      if (reasons.length) item.appendChild(reasonList(reasons));
    }
  }

  function onEventCauses(msg) {
    for (const u of Array.isArray(msg.events) ? msg.events : []) {
      for (const li of $("events").querySelectorAll("li.event")) {
        if (li.dataset.key === String(u.key)) renderEventCauses(li, u.causes);
      }
    }
  }

  function addEvent(ev) {
    if (!ev || typeof ev !== "object") return;
    const list = $("events");
    const li = el("li", "event");
    const head = li.appendChild(el("div", "ev-head"));
    head.appendChild(el("span", "ev-time", eventTime(ev)));
    const label = ev.channel_label ?? (isNum(ev.channel) ? `ch ${ev.channel}` : "—");
    const chan = head.appendChild(el("span", "ev-chan", label));
    chan.style.color = colourFor(label);
    chan.style.fontWeight = "600";
    const parts = [
      `${fmt(ev.amplitude_uv, 0)} µV`,
      `${fmt(ev.duration_ms, 1)} ms`,
      `${isNum(ev.n_phases) ? ev.n_phases : "—"} phases`,
      `unit ${ev.unit_id ?? "—"}`,
    ];
    head.appendChild(el("span", null, " · " + parts.join(" · ")));
    if (ev.key) li.dataset.key = String(ev.key);
    renderEventCauses(li, ev.causes);
    list.prepend(li);
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
    $("events-empty").hidden = true;
  }

  function onEnded(msg) {
    const e = $("st-ended");
    e.textContent = `Recording ended${msg.reason ? ": " + msg.reason : ""}`;
    e.hidden = false;
    loadSessions();
  }

  // ------------------------------------------------------------------ log form
  let accepted = null;

  function fillSelect(select, values, { blank = null, selected = null } = {}) {
    select.replaceChildren();
    if (blank !== null) select.appendChild(new Option(blank, ""));
    values.forEach((v) => select.appendChild(new Option(String(v), String(v))));
    if (selected !== null && values.map(String).includes(String(selected))) select.value = String(selected);
  }

  function currentCategory() { return $("log-category").value; }

  function onCategoryChange() {
    const cat = currentCategory();
    const kinds = !accepted ? [] : cat === "exposure" ? Object.keys(accepted.exposure || {}) : ((accepted.symptom || {}).kinds || []);
    fillSelect($("log-kind"), kinds);
    document.querySelectorAll(".exposure-only").forEach((n) => { n.hidden = cat !== "exposure"; });
    document.querySelectorAll(".symptom-only").forEach((n) => { n.hidden = cat !== "symptom"; });
    $("log-until").closest(".row").hidden = cat !== "exposure";
    onKindChange();
  }

  function onKindChange() {
    const cat = currentCategory(), kind = $("log-kind").value;
    const detailBox = $("log-detail");
    detailBox.replaceChildren();
    if (cat !== "exposure" || !accepted) {
      const sev = (accepted && accepted.symptom && accepted.symptom.severity) || {};
      const words = Object.keys(sev.words || {});
      fillSelect($("severity-words"), words);
      $("log-help").textContent = words.length ? `severity 0-10 or ${words.join("/")}; time as now, 09:30 or -2h` : "";
      return;
    }
    const spec = (accepted.exposure || {})[kind] || {};
    const range = Array.isArray(spec.range) ? ` (${spec.range[0]}-${spec.range[1]})` : "";
    $("log-help").textContent = (spec.help || "") + (spec.value_required ? "" : "; amount optional") + range;
    const units = spec.units || [];
    fillSelect($("log-unit"), units, { blank: "", selected: spec.unit });
    $("log-unit").disabled = !units.length;
    $("log-value").disabled = !units.length && !spec.value_required;
    // one select per detail choice list, one text box per free-text detail
    const required = spec.detail_required || [];
    for (const [name, choices] of Object.entries(spec.detail || {})) {
      const row = detailBox.appendChild(el("div", "row"));
      const id = `log-detail-${name}`;
      const lab = row.appendChild(el("label", null, name.replace(/_/g, " ") + (required.includes(name) ? " *" : "")));
      lab.htmlFor = id;
      const s = row.appendChild(el("select"));
      s.id = id;
      s.dataset.detail = name;
      fillSelect(s, choices, { blank: "—" });
    }
    for (const name of spec.detail_free_text || []) {
      const row = detailBox.appendChild(el("div", "row"));
      const id = `log-detail-${name}`;
      const lab = row.appendChild(el("label", null, name.replace(/_/g, " ") + (required.includes(name) ? " *" : "")));
      lab.htmlFor = id;
      const inp = row.appendChild(el("input"));
      inp.type = "text";
      inp.id = id;
      inp.dataset.detail = name;
    }
  }

  function logMessage(text, cls) {
    const m = $("log-message");
    m.textContent = text;
    m.className = cls || "";
  }

  // Empty string → null; plain numbers → Number; anything else stays text for the server to judge.
  function val(id, numeric) {
    const v = $(id).value.trim();
    if (v === "") return null;
    if (numeric && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) return Number(v);
    return v;
  }

  async function onSubmit(e) {
    e.preventDefault();
    const cat = currentCategory(), kind = $("log-kind").value;
    if (!kind) { logMessage("Choose what you are logging (kind).", "error"); return; }
    const body = { category: cat, kind, value: null, unit: null, at: val("log-at"), until: null, detail: null, site: null, severity: null, note: val("log-note") };
    if (cat === "exposure") {
      const spec = (accepted && accepted.exposure && accepted.exposure[kind]) || {};
      body.value = val("log-value", true);
      if (spec.value_required && body.value === null) { logMessage(`Enter an amount for ${kind}.`, "error"); $("log-value").focus(); return; }
      body.unit = $("log-unit").disabled ? null : val("log-unit");
      body.until = val("log-until");
      const detail = {};
      $("log-detail").querySelectorAll("[data-detail]").forEach((n) => { if (n.value.trim()) detail[n.dataset.detail] = n.value.trim(); });
      body.detail = Object.keys(detail).length ? detail : null;
    } else {
      body.site = val("log-site");
      body.severity = val("log-severity", true);
    }
    const btn = $("log-submit");
    btn.disabled = true;
    logMessage("saving…", "");
    const r = await api("POST", "/api/log", body);
    btn.disabled = false;
    if (r.ok) {
      logMessage(r.data.text || "saved", "ok");
      ["log-value", "log-at", "log-until", "log-note", "log-site", "log-severity"].forEach((id) => { $(id).value = ""; });
    } else {
      logMessage(r.data.error, "error");
    }
  }

  async function loadAccepted() {
    const r = await api("GET", "/api/accepted");
    if (!r.ok) { logMessage(r.data.error, "error"); return; }
    accepted = r.data;
    onCategoryChange();
  }

  // ------------------------------------------------------------------ history
  const hist = { data: null };

  async function loadSessions() {
    const sel = $("history-session");
    const keep = sel.value;
    const r = await api("GET", "/api/sessions");
    if (!r.ok) { $("history-message").textContent = r.data.error; return; }
    const sessions = r.data.sessions || [];
    sel.replaceChildren(new Option(sessions.length ? "— choose a session —" : "no sessions recorded yet", ""));
    for (const s of sessions) {
      const label = `${fmtWhen(s.started_at, true)} · ${s.body_site || "site not given"} · ${s.events ?? 0} twitches${s.ended_at ? "" : " (recording)"}`;
      sel.appendChild(new Option(label, String(s.id)));
    }
    if (keep && sessions.some((s) => String(s.id) === keep)) sel.value = keep;
    $("history-message").textContent = "";
  }

  async function loadSession(id) {
    const tbody = $("history-events").querySelector("tbody");
    if (!id) { tbody.replaceChildren(); hist.data = null; drawHistoryRate(null); return; }
    $("history-message").textContent = "loading…";
    const r = await api("GET", `/api/sessions/${encodeURIComponent(id)}`);
    if ($("history-session").value !== id) return; // the user picked another meanwhile
    if (!r.ok) { $("history-message").textContent = r.data.error; return; }
    hist.data = r.data;
    const events = r.data.events || [];
    const shown = events.slice(0, 1000);
    tbody.replaceChildren(...shown.map((ev) => {
      const tr = el("tr");
      const cells = [[eventTime(ev)], [ev.channel_label ?? ev.channel], [fmt(ev.amplitude_uv, 0), 1], [fmt(ev.duration_ms, 1), 1],
        [fmt(ev.confidence, 2), 1], [ev.unit_id ?? "—"], [typeof ev.top_cause === "object" && ev.top_cause ? ev.top_cause.cause_name || ev.top_cause.cause_id : ev.top_cause || "—"]];
      cells.forEach(([text, num]) => tr.appendChild(el("td", num ? "num" : null, text)));
      return tr;
    }));
    $("history-message").textContent = `${events.length} twitches` + (events.length > shown.length ? ` (first ${shown.length} listed)` : "");
    drawHistoryRate(r.data);
  }

  // Grouped bars: one colour per channel label, x = minutes from start, y = twitches/min.
  function drawHistoryRate(data) {
    const canvas = $("history-rate");
    const { ctx, w, h } = prepCanvas(canvas);
    const rate = data && data.rate;
    const counts = rate && rate.counts ? rate.counts : {};
    const labels = Object.keys(counts);
    const pad = { left: 44, right: 10, top: 22, bottom: 26 };
    const pw = w - pad.left - pad.right, ph = h - pad.top - pad.bottom;
    ctx.fillStyle = "#66737c";
    if (!labels.length) {
      ctx.textAlign = "center"; ctx.textBaseline = "middle";
      ctx.fillText(data ? "no twitches in this session" : "choose a session to see its twitch rate", w / 2, h / 2);
      return;
    }
    const binS = rate.bin_s || 60, perMin = 60 / binS;
    const nBins = Math.max(1, ...labels.map((l) => (counts[l] || []).length));
    let maxY = 0;
    labels.forEach((l) => (counts[l] || []).forEach((n) => { maxY = Math.max(maxY, n * perMin); }));
    const yStep = niceCeil(Math.max(1, maxY) / 5);
    maxY = Math.max(1, Math.ceil(maxY / yStep)) * yStep;
    const yOf = (v) => pad.top + ph * (1 - v / maxY);
    // y grid at round steps
    ctx.textAlign = "right"; ctx.textBaseline = "middle"; ctx.strokeStyle = "#e6eae8"; ctx.lineWidth = 1;
    for (let v = 0; v <= maxY + 1e-9; v += yStep) {
      const y = Math.round(yOf(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(pad.left, y); ctx.lineTo(pad.left + pw, y); ctx.stroke();
      ctx.fillText(String(Math.round(v * 10) / 10), pad.left - 4, y);
    }
    // bars
    const binW = pw / nBins, barW = Math.max(1, (binW * 0.8) / labels.length);
    labels.forEach((l, j) => {
      ctx.fillStyle = colourFor(l);
      (counts[l] || []).forEach((n, i) => {
        if (!n) return;
        const x = pad.left + i * binW + binW * 0.1 + j * barW, y = yOf(n * perMin);
        ctx.fillRect(x, y, barW, pad.top + ph - y);
      });
    });
    // x labels: minutes from start
    ctx.fillStyle = "#66737c"; ctx.textAlign = "center"; ctx.textBaseline = "top";
    const binMin = binS / 60, every = Math.max(1, Math.ceil(nBins / Math.max(1, Math.floor(pw / 50))));
    for (let i = 0; i <= nBins; i += every) ctx.fillText(`${Math.round(i * binMin * 10) / 10}`, pad.left + i * binW, pad.top + ph + 4);
    ctx.textAlign = "right";
    ctx.fillText("minutes from start", pad.left + pw, pad.top + ph + 14);
    ctx.textAlign = "left"; ctx.textBaseline = "top";
    ctx.fillText("twitches/min", 4, 4);
    // legend
    let lx = pad.left + 90;
    labels.forEach((l) => {
      ctx.fillStyle = colourFor(l); ctx.fillRect(lx, 6, 10, 10);
      ctx.fillStyle = "#22303a"; ctx.fillText(l, lx + 14, 5);
      lx += 24 + ctx.measureText(l).width;
    });
  }

  // ------------------------------------------------------------------ start
  function start() {
    $("log-category").addEventListener("change", onCategoryChange);
    $("log-kind").addEventListener("change", onKindChange);
    $("log-form").addEventListener("submit", onSubmit);
    $("history-refresh").addEventListener("click", loadSessions);
    $("history-session").addEventListener("change", (e) => loadSession(e.target.value));
    drawHistoryRate(null);
    if (!TOKEN) {
      showTokenProblem("This page needs its access token. Open the full link that twitchwatch printed when it started (it ends with #token=…).");
      setLinkState("closed", "no access token");
      $("log-submit").disabled = true;
      return;
    }
    connect();
    loadAccepted();
    loadSessions();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
