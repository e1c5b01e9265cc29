// Runs in every page: the pointerprint SDK captures the mouse (never the keyboard) and hands
// each batch to the service worker, which posts it to the server set in the options.
// The SDK retries a batch the worker could not deliver, with backoff, in order.
PointerPrint.start({
  send: (batch) =>
    chrome.runtime.sendMessage({ type: 'pointerprint-batch', batch }).then((reply) => {
      if (!reply || !reply.ok) throw new Error((reply && reply.error) || 'not delivered');
    }),
});
