// portal_load.mjs - the portal's home page on a slow phone link, as Debian's chromium loads
// it (playwright-core from tests/browser): 150 ms round trip, 400 kbit/s each way (CDP
// Network.emulateNetworkConditions), a phone's viewport, an empty cache. Measures the
// first visit (requests, bytes over the wire, time to network idle, largest contentful
// paint), then a repeat visit in the same browser (a new tab: what it still asks the
// server for) and a reload of it. Prints one JSON object (bench/run.sh portal_load).
//   node tools/bench/portal_load.mjs URL
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/browser/package.json'));
const { chromium } = require('playwright-core');

const URL_HOME = process.argv[2];
if (!URL_HOME) {
  console.error('usage: portal_load.mjs URL');
  process.exit(2);
}
const LINK = { offline: false, latency: 150, downloadThroughput: 400000 / 8, uploadThroughput: 400000 / 8 };

// One navigation: every request of it by CDP id, whether the network or the cache answered.
async function visit(page, go) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', LINK);
  const reqs = new Map();
  let t0 = null, tLast = 0, inflight = 0, tQuiet = Date.now();
  const done = (id, t, bytes) => {
    const r = reqs.get(id);
    if (!r || r.done) return;
    r.done = true;
    r.bytes = bytes;
    tLast = Math.max(tLast, t);
    inflight--;
    tQuiet = Date.now();
  };
  cdp.on('Network.requestWillBeSent', (e) => {
    if (t0 === null) t0 = e.timestamp;
    if (!reqs.has(e.requestId)) inflight++;
    reqs.set(e.requestId, { url: e.request.url, cached: false, status: 0, bytes: 0, done: false });
  });
  cdp.on('Network.requestServedFromCache', (e) => { const r = reqs.get(e.requestId); if (r) r.cached = true; });
  cdp.on('Network.responseReceived', (e) => {
    const r = reqs.get(e.requestId);
    if (!r) return;
    r.status = e.response.status;
    r.encoding = (e.response.headers['content-encoding'] || e.response.headers['Content-Encoding'] || '');
    if (e.response.fromDiskCache || e.response.fromPrefetchCache || e.response.fromServiceWorker) r.cached = true;
  });
  cdp.on('Network.loadingFinished', (e) => done(e.requestId, e.timestamp, e.encodedDataLength));
  cdp.on('Network.loadingFailed', (e) => done(e.requestId, e.timestamp, 0));

  await go();
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  // network idle: nothing in flight for 500 ms (the live WebSocket is not a request)
  for (const tEnd = Date.now() + 30000; Date.now() < tEnd;) {
    if (inflight <= 0 && Date.now() - tQuiet >= 500) break;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  const lcp = await page.evaluate(() => window.__lcp || 0);
  await cdp.detach();
  const all = [...reqs.values()].filter((r) => r.url.startsWith('http'));
  const net = all.filter((r) => !r.cached);
  const isData = (r) => new URL(r.url).pathname.startsWith('/api/');
  return {
    requests: all.length,
    network: net.length,
    network_static: net.filter((r) => !isData(r)).map((r) => `${new URL(r.url).pathname} ${r.status}`),
    network_data: net.filter(isData).length,
    bytes: net.reduce((s, r) => s + r.bytes, 0),
    bytes_static: net.filter((r) => !isData(r)).reduce((s, r) => s + r.bytes, 0),
    gzip: net.filter((r) => r.encoding === 'gzip').length,
    idle_ms: Math.round((tLast - t0) * 1000),
    lcp_ms: Math.round(lcp),
  };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({
    locale: 'zh-CN', viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  });
  await context.addInitScript(() => {
    window.__lcp = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__lcp = e.startTime;
    }).observe({ type: 'largest-contentful-paint', buffered: true });
  });
  const first = await context.newPage();
  const firstVisit = await visit(first, () => first.goto(URL_HOME));
  await first.close();
  const again = await context.newPage();
  const repeat = await visit(again, () => again.goto(URL_HOME));
  const reload = await visit(again, () => again.reload());
  console.log(JSON.stringify({ first: firstVisit, repeat, reload }));
} finally {
  await browser.close();
}
