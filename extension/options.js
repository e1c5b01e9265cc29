// The options page: server URL and session token, kept in chrome.storage.sync.
const fields = ['server', 'token'];

chrome.storage.sync.get({ server: 'http://127.0.0.1:8080', token: '' }).then((saved) => {
  for (const f of fields) document.getElementById(f).value = saved[f];
});

document.getElementById('options').addEventListener('submit', async (e) => {
  e.preventDefault();
  const values = {};
  for (const f of fields) values[f] = document.getElementById(f).value.trim();
  await chrome.storage.sync.set(values);
  document.getElementById('status').textContent = 'Saved.';
  document.body.dataset.saved = 'true';
});
