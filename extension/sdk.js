// pointerprint collector: records how the mouse moves (never what is typed) and sends it
// to a pointerprint service in batches. API and wire format: docs/collector.md.
((g) => {
  'use strict';
  const round = (v) => Math.round(v * 100) / 100;
  const newId = () =>
    Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
  // Wheel deltas in pixels whatever the device reports (lines of 16 px, pages of the viewport).
  const at = (k) => (k === 'visibilitychange' ? document : g);
  const wheelPx = (e, d) => (e.deltaMode === 1 ? d * 16 : e.deltaMode === 2 ? d * innerHeight : d);

  class Collector extends EventTarget {
    constructor(o) {
      super();
      if (!o || !(o.endpoint || o.send)) throw new Error('pointerprint: endpoint is required');
      this.o = { key: '', token: '', batchSize: 200, batchMs: 2000, ...o };
      // A session token (from the site's backend, POST /v1/sessions) names the user and
      // the session itself; an API key needs them in every batch.
      this.credential = this.o.token || this.o.key;
      this.param = this.o.token ? 'token' : 'key';
      this.userId = this.o.userId;
      this.sessionId = this.o.sessionId || (this.o.token ? undefined : newId());
      if (this.o.stream === true && !this.sessionId)
        throw new Error('pointerprint: stream needs the sessionId the token was opened for');
      this.seq = 0;
      this.buf = [];
      this.queue = [];
      this.waiters = [];
      this.last = 0;
      this.captured = 0;
      this.on = (name, fn) => (this.addEventListener(name, (e) => fn(e.detail)), this);
      this.h = {
        pointermove: (e) => this.move(e),
        pointerdown: (e) => this.push(e, { type: 'down', button: e.button }),
        pointerup: (e) => this.push(e, { type: 'up', button: e.button }),
        wheel: (e) =>
          this.push(e, { type: 'wheel', dx: round(wheelPx(e, e.deltaX)), dy: round(wheelPx(e, e.deltaY)) }),
        pagehide: () => this.beacon(),
        visibilitychange: () => document.visibilityState === 'hidden' && this.beacon(),
      };
    }

    /** Starts capturing (again); returns the collector. */
    start() {
      if (this.timer) return this;
      for (const k in this.h) at(k).addEventListener(k, this.h[k], { capture: true, passive: true });
      this.timer = setInterval(() => this.cut(), this.o.batchMs);
      if (this.o.stream) this.connect();
      return this;
    }

    /** Stops capturing and delivers what was captured; resolves when delivered. */
    stop() {
      for (const k in this.h) at(k).removeEventListener(k, this.h[k], { capture: true });
      clearInterval(this.timer);
      this.timer = null;
      if (this.ws) (this.ws.onclose = null), this.ws.close();
      this.ws = null;
      return this.flush();
    }

    /** Sends what is buffered now; resolves when every batch so far is delivered. */
    flush() {
      this.cut();
      return this.queue.length ? new Promise((r) => this.waiters.push(r)) : Promise.resolve();
    }

    move(e) {
      const list = (e.getCoalescedEvents && e.getCoalescedEvents()) || [];
      for (const c of list.length ? list : [e]) this.push(c, { type: 'move', buttons: c.buttons });
      // A second button pressed or released while another is held comes as a move.
      if (e.button >= 0)
        this.push(e, { type: e.buttons & (1 << [0, 2, 1, 3, 4][e.button]) ? 'down' : 'up', button: e.button });
    }

    push(e, ev) {
      // The event's own time on the wall clock; kept in order across event types.
      const t = Math.max(this.last, round(performance.timeOrigin + e.timeStamp));
      this.last = t;
      ev.t = t;
      ev.x = round(e.clientX);
      ev.y = round(e.clientY);
      if (e.pointerType && e.pointerType !== 'mouse') ev.pointer = e.pointerType;
      this.buf.push(ev);
      this.captured++;
      if (this.buf.length >= this.o.batchSize) this.cut();
    }

    cut() {
      if (!this.buf.length) return;
      const s = g.screen;
      this.queue.push({
        user_id: this.userId,
        session_id: this.sessionId,
        seq: this.seq++,
        events: this.buf,
        screen: {
          width: s.width,
          height: s.height,
          device_pixel_ratio: g.devicePixelRatio || 1,
          viewport_width: innerWidth,
          viewport_height: innerHeight,
        },
      });
      this.buf = [];
      this.pump();
    }

    // Sends the queue one batch at a time, in order, retrying with backoff.
    async pump(attempt = 0) {
      // One post at a time, and none while a failed one waits out its backoff.
      if (this.busy || this.retry) return;
      const batch = this.queue[0];
      if (!batch) {
        this.waiters.splice(0).forEach((r) => r());
        return;
      }
      this.busy = true;
      let status = 0;
      try {
        status = this.o.send
          ? (await this.o.send(batch), 202)
          : (
              await fetch(this.o.endpoint, {
                method: 'POST',
                headers: {
                  'Content-Type': 'application/json',
                  ...(this.credential && { Authorization: 'Bearer ' + this.credential }),
                },
                body: JSON.stringify(batch),
                credentials: 'same-origin',
              })
            ).status;
      } catch (err) {
        status = 0;
      }
      this.busy = false;
      if (this.queue[0] !== batch) return this.pump();
      const ok = status >= 200 && status < 300;
      if (ok || (status >= 400 && status < 500 && status !== 408 && status !== 429)) {
        // Delivered, or refused for good (bad data is not worth sending again).
        this.queue.shift();
        this.emit(ok ? 'batch' : 'error', { seq: batch.seq, events: batch.events.length, status });
        return this.pump();
      }
      this.emit('error', { seq: batch.seq, status, retry: attempt + 1 });
      const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random());
      this.retry = setTimeout(() => ((this.retry = null), this.pump(attempt + 1)), delay);
    }

    // The page is going away: hand everything not yet delivered to the browser to send.
    beacon() {
      this.cut();
      for (const b of this.queue.splice(0)) {
        const body = JSON.stringify(b);
        if (this.o.send) this.o.send(b);
        else {
          const url = this.o.endpoint + (this.credential ? `?${this.param}=` + encodeURIComponent(this.credential) : '');
          if (!navigator.sendBeacon(url, new Blob([body], { type: 'text/plain' })))
            fetch(url, { method: 'POST', body, keepalive: true, credentials: 'same-origin' }).catch(() => {});
        }
      }
      this.waiters.splice(0).forEach((r) => r());
    }

    // Trust updates pushed by the server, re-dispatched as `trust` events; reconnects.
    connect(attempt = 0) {
      let url = this.o.stream;
      if (url === true) {
        const u = new URL(this.o.endpoint, location.href);
        url = u.origin + '/v1/sessions/' + encodeURIComponent(this.sessionId) + '/stream';
        if (this.credential) url += `?${this.param}=` + encodeURIComponent(this.credential);
      }
      url = new URL(url, location.href);
      url.protocol = url.protocol.replace('http', 'ws');
      const ws = (this.ws = new WebSocket(url));
      ws.onopen = () => (attempt = 0);
      ws.onmessage = (m) => {
        try {
          this.emit('trust', JSON.parse(m.data));
        } catch (err) {}
      };
      ws.onclose = () => this.timer && setTimeout(() => this.timer && this.connect(attempt + 1), 500 * 2 ** Math.min(attempt, 6));
    }

    emit(name, detail) {
      this.dispatchEvent(new CustomEvent(name, { detail }));
    }
  }

  g.PointerPrint = { start: (o) => new Collector(o).start(), Collector, version: 1 };
})(globalThis);
