// pointerprint dashboard: confirmations, the live feed and the trajectory replay.
// Plain JavaScript, no build step; loaded on every signed-in page.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (e) => {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  }
  const feed = document.getElementById("live-feed");
  if (feed) liveFeed(feed);
  const canvas = document.getElementById("replay-canvas");
  if (canvas) replay(canvas);
});

const LABELS = { accept: "accepted", reject: "rejected", insufficient_data: "too few actions" };

function utc(ms) {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function liveFeed(tbody) {
  const status = document.getElementById("live-status");
  const source = new EventSource("/dashboard/live");
  source.onopen = () => { status.classList.add("on"); status.title = "connected"; };
  source.onerror = () => { status.classList.remove("on"); status.title = "reconnecting"; };
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    const row = tbody.insertRow(0);
    row.className = "fresh";
    row.dataset.type = event.type;
    cell(row, utc(event.created_ms));
    const badge = document.createElement("span");
    const kind = cell(row, "");
    if (event.type === "decision") {
      badge.className = "badge " + event.decision;
      badge.textContent = LABELS[event.decision] || event.decision;
    } else {
      badge.className = "badge lock";
      badge.textContent = "locked out";
    }
    kind.appendChild(badge);
    const user = cell(row, "");
    const link = document.createElement("a");
    link.href = "/dashboard/users/" + encodeURIComponent(event.user_id);
    link.textContent = event.user_id;
    user.appendChild(link);
    cell(row, event.session_id || "");
    if (event.type === "decision") {
      cell(row, event.score.toFixed(3));
      cell(row, event.threshold.toFixed(3));
    } else {
      cell(row, "trust " + event.trust.toFixed(1));
      cell(row, "");
    }
    while (tbody.rows.length > 50) tbody.deleteRow(-1);
  };
}

// Speed → colour, blue (slow) to red (fast), on a square-root scale.
function speedColour(v, vmax) {
  const t = Math.min(1, Math.sqrt(v / vmax));
  const r = Math.round(43 + t * (226 - 43)), g = Math.round(108 + t * (59 - 108)), b = Math.round(214 + t * (46 - 214));
  return `rgb(${r},${g},${b})`;
}

function replay(canvas) {
  const select = document.getElementById("replay-session");
  const play = document.getElementById("replay-play");
  const speed = document.getElementById("replay-speed");
  const status = document.getElementById("replay-status");
  const ctx = canvas.getContext("2d");
  let timer = null;
  // Each replay has a number; a replay started later stops the earlier one.
  let generation = 0;

  async function start() {
    const mine = ++generation;
    if (timer) cancelAnimationFrame(timer);
    canvas.dataset.done = "false";
    status.textContent = "Loading…";
    const response = await fetch("/dashboard/sessions/" + encodeURIComponent(select.value) + "/trajectory");
    if (mine !== generation) return;
    if (!response.ok) { status.textContent = "Cannot load the session: " + response.status; return; }
    const data = await response.json();
    if (mine !== generation) return;
    const events = data.events;
    if (events.length === 0) { status.textContent = "No events."; return; }
    // The screen if known, widened to every position (pointers leave the screen's edge).
    let x0 = 0, y0 = 0, x1 = data.screen ? data.screen[0] : 1, y1 = data.screen ? data.screen[1] : 1;
    for (const e of events) {
      x0 = Math.min(x0, e[1]); y0 = Math.min(y0, e[2]); x1 = Math.max(x1, e[1]); y1 = Math.max(y1, e[2]);
    }
    const w = Math.max(x1 - x0, 1), h = Math.max(y1 - y0, 1);
    const scale = Math.min(canvas.width / w, canvas.height / h) * 0.96;
    const ox = (canvas.width - w * scale) / 2 - x0 * scale, oy = (canvas.height - h * scale) / 2 - y0 * scale;
    const px = (e) => [ox + e[1] * scale, oy + e[2] * scale];
    // Speeds between consecutive positions; the 95th percentile sets the top colour.
    const speeds = [0];
    for (let i = 1; i < events.length; i++) {
      const dt = Math.max(events[i][0] - events[i - 1][0], 1);
      speeds.push(Math.hypot(events[i][1] - events[i - 1][1], events[i][2] - events[i - 1][2]) / dt * 1000);
    }
    const sorted = speeds.filter((s) => s > 0).sort((a, b) => a - b);
    const vmax = sorted.length ? sorted[Math.floor(sorted.length * 0.95)] || 1 : 1;

    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = "#d5dae1";
    if (data.screen) ctx.strokeRect(ox, oy, data.screen[0] * scale, data.screen[1] * scale);
    const counts = { clicks: 0, drags: 0, scrolls: 0 };
    function draw(i) {
      const e = events[i];
      const [x, y] = px(e);
      if (i > 0 && (e[3] === 0 || e[3] === 1)) {
        const [x0, y0] = px(events[i - 1]);
        ctx.beginPath();
        ctx.moveTo(x0, y0);
        ctx.lineTo(x, y);
        ctx.lineWidth = e[3] === 1 ? 3 : 1.5;
        ctx.strokeStyle = e[3] === 1 ? "#c026d3" : speedColour(speeds[i], vmax);
        ctx.stroke();
        if (e[3] === 1 && events[i - 1][3] !== 1) counts.drags++;
      } else if (e[3] === 2) {
        ctx.beginPath(); ctx.arc(x, y, 5, 0, 2 * Math.PI); ctx.fillStyle = "#111"; ctx.fill();
        counts.clicks++;
      } else if (e[3] === 4) {
        ctx.fillStyle = "#0f9d8a"; ctx.font = "16px sans-serif";
        ctx.fillText(e[4] < 0 ? "↑" : "↓", x + 4, y);
        counts.scrolls++;
      }
    }
    const factor = Number(speed.value);
    const t0 = events[0][0];
    let i = 0;
    const begun = performance.now();
    function frame(now) {
      if (mine !== generation) return;
      const until = factor === 0 ? Infinity : t0 + (now - begun) * factor;
      while (i < events.length && events[i][0] <= until) draw(i++);
      status.textContent = `${data.session_id}: ${i} of ${events.length} events · ${counts.clicks} clicks · ${counts.drags} drags · ${counts.scrolls} scrolls`;
      if (i < events.length) timer = requestAnimationFrame(frame);
      else { timer = null; canvas.dataset.done = "true"; }
    }
    timer = requestAnimationFrame(frame);
  }
  play.addEventListener("click", start);
  start();
}
