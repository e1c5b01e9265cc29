// Shared helpers of the demo pages: JSON calls to the demo API and random placement.
const Demo = {
  /** GET (no body) or POST JSON to /demo/api/PATH; throws an Error with .status and .code. */
  async api(path, body) {
    const init = { credentials: 'same-origin' };
    if (body !== undefined) {
      init.method = 'POST';
      init.headers = { 'Content-Type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    const response = await fetch('/demo/api/' + path, init);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error((data.error && data.error.message) || response.statusText);
      error.status = response.status;
      error.code = data.error && data.error.code;
      throw error;
    }
    return data;
  },

  /** The signed-in account, or null. */
  async me() {
    try {
      return await Demo.api('me');
    } catch (e) {
      if (e.status === 401) return null;
      throw e;
    }
  },

  /** Opens a session of the account's for `purpose` (`enrol` or `continuous`); the server
   * chooses its id, and takes events and listeners of it from this account only. */
  async openSession(purpose) {
    return (await Demo.api('sessions', { purpose })).session_id;
  },

  /** Places `el` (size w x h) at a random spot inside `area`, away from the edges. */
  place(el, area, w, h) {
    const x = 10 + Math.random() * (area.clientWidth - w - 20);
    const y = 10 + Math.random() * (area.clientHeight - h - 20);
    el.style.left = x + 'px';
    el.style.top = y + 'px';
  },

  /** Shows who is signed in, in the header. */
  async header() {
    const me = await Demo.me();
    const who = document.querySelector('header .who');
    if (who) who.textContent = me ? 'signed in as ' + me.username : 'not signed in';
    return me;
  },
};
