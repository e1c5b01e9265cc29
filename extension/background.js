// Service worker: posts the batches of the content scripts to the pointerprint server, in
// pointerprint's event format (POST /v1/events), as the user id set in the options.

async function settings() {
  const s = await chrome.storage.sync.get({ server: 'http://127.0.0.1:8080', key: '', userId: '' });
  return { server: s.server.replace(/\/+$/, ''), key: s.key, userId: s.userId };
}

async function deliver(batch) {
  const { server, key, userId } = await settings();
  if (!key || !userId) return { ok: false, error: 'set the server, ingest key and user id in the options' };
  const response = await fetch(server + '/v1/events', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + key },
    body: JSON.stringify({ ...batch, user_id: userId }),
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
