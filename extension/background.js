// Service worker: posts the batches of the content scripts to the pointerprint server, in
// pointerprint's event format (POST /v1/events), with the session token set in the options.
// A token (opened by the site's backend, POST /v1/sessions) names one session of one user:
// every tab's batches go to it, numbered here in the order they are delivered.

async function settings() {
  const s = await chrome.storage.sync.get({ server: 'http://127.0.0.1:8080', token: '' });
  return { server: s.server.replace(/\/+$/, ''), token: s.token };
}

// The batch number in the token's session of a tab's batch (the tab's own session id and
// number): the same for a retry, the next one for a new batch. Numbers are kept across
// service-worker restarts and handed out one at a time.
const assigned = new Map();
let numbering = Promise.resolve();
function seqOf(token, batch) {
  const tabBatch = batch.session_id + ':' + batch.seq;
  if (assigned.has(tabBatch)) return assigned.get(tabBatch);
  const key = 'seq:' + token;
  const next = numbering.then(async () => {
    const seq = (await chrome.storage.local.get({ [key]: 0 }))[key];
    await chrome.storage.local.set({ [key]: seq + 1 });
    return seq;
  });
  numbering = next.catch(() => {});
  assigned.set(tabBatch, next);
  return next;
}

async function deliver(batch) {
  const { server, token } = await settings();
  if (!token) return { ok: false, error: 'set the server and the session token in the options' };
  const { user_id, session_id, ...rest } = batch; // the token names them
  const response = await fetch(server + '/v1/events', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token },
    body: JSON.stringify({ ...rest, seq: await seqOf(token, batch) }),
  });
  if (response.ok) return { ok: true };
  const text = await response.text();
  // 4xx other than 408/429 will not get better by sending again: say so, and drop it.
  const final = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
  if (final) console.warn('pointerprint: batch refused', response.status, text);
  return { ok: final, error: response.status + ' ' + text };
}

chrome.runtime.onMessage.addListener((message, _sender, reply) => {
  if (message && message.type === 'pointerprint-batch') {
    deliver(message.batch).then(reply, (e) => reply({ ok: false, error: String(e) }));
    return true; // the reply comes later
  }
  return false;
});
