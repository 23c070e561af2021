// The /status page: one self-contained HTML document (no build step, no external assets) that polls
// /status.json every two seconds and shows, per service, the pool mode, size and live usage, the cache
// hit rate, and the connection budget bar the doctor computes.
export function statusPageHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>poolwise status</title>
<link rel="icon" href="data:,">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d2330; background: #f6f7f9; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
  .muted { color: #667085; font-size: .85rem; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 1rem; margin: 1.5rem 0; }
  .card { background: #fff; border-radius: 10px; padding: 1rem 1.2rem; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
  .card h2 { font-size: 1.05rem; margin: 0 0 .5rem; text-transform: capitalize; }
  .mode { display: inline-block; padding: .1rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; }
  .mode.transaction { background: #d1fadf; color: #05603a; }
  .mode.session { background: #fee4e2; color: #912018; }
  .mode.direct { background: #fef0c7; color: #93370d; }
  .mode.unreachable { background: #eaecf0; color: #344054; }
  dl { display: grid; grid-template-columns: auto 1fr; gap: .2rem .8rem; margin: .6rem 0 0; }
  dt { color: #667085; } dd { margin: 0; font-variant-numeric: tabular-nums; }
  .bar { height: 14px; background: #eaecf0; border-radius: 7px; overflow: hidden; }
  .bar > div { height: 100%; background: #12b76a; transition: width .3s; }
  .bar.over > div { background: #f04438; }
</style>
</head>
<body>
<h1>poolwise status</h1>
<div class="muted" id="updated">loading…</div>
<div class="grid" id="services"></div>
<div class="card">
  <h2>Connection budget</h2>
  <div class="bar" id="budget-bar"><div style="width:0"></div></div>
  <div class="muted" id="budget-text"></div>
</div>
<script>
  const services = document.getElementById('services');
  const text = (value) => String(value ?? '–');
  function card(service) {
    const el = document.createElement('div');
    el.className = 'card';
    el.dataset.service = service.service;
    const mode = service.reachable ? service.mode : 'unreachable';
    const cache = service.cache || {};
    const reads = (cache.hits || 0) + (cache.misses || 0);
    const hitRate = reads ? Math.round((100 * cache.hits) / reads) + '%' : '–';
    el.innerHTML = '<h2></h2><span class="mode"></span><dl>' +
      '<dt>pool size</dt><dd data-field="pool-size"></dd>' +
      '<dt>replicas</dt><dd data-field="replicas"></dd>' +
      '<dt>connections</dt><dd data-field="pool-usage"></dd>' +
      '<dt>acquire timeouts</dt><dd data-field="timeouts"></dd>' +
      '<dt>cache (' + text(cache.kind) + ')</dt><dd data-field="hit-rate"></dd></dl>';
    el.querySelector('h2').textContent = service.service;
    const badge = el.querySelector('.mode');
    badge.textContent = mode;
    badge.classList.add(mode);
    badge.dataset.field = 'mode';
    const pool = service.pool || {};
    el.querySelector('[data-field=pool-size]').textContent = text(service.poolSize);
    el.querySelector('[data-field=replicas]').textContent = text(service.replicas);
    el.querySelector('[data-field=pool-usage]').textContent =
      service.reachable ? pool.total + ' open · ' + pool.idle + ' idle · ' + pool.waiting + ' waiting' : '–';
    el.querySelector('[data-field=timeouts]').textContent = text(service.acquireTimeouts);
    el.querySelector('[data-field=hit-rate]').textContent = hitRate + (reads ? ' of ' + reads + ' reads' : '');
    return el;
  }
  async function refresh() {
    try {
      const response = await fetch('/status.json', { cache: 'no-store' });
      const status = await response.json();
      services.replaceChildren(...status.services.map(card));
      const { used, headroom, connections } = status.budget;
      const bar = document.getElementById('budget-bar');
      const share = connections ? Math.min(100, (100 * (used + headroom)) / connections) : 0;
      bar.firstElementChild.style.width = share + '%';
      bar.classList.toggle('over', connections !== null && used + headroom > connections);
      document.getElementById('budget-text').textContent = connections
        ? used + ' pooled + ' + headroom + ' headroom of ' + connections + ' (DB_CONNECTION_BUDGET)'
        : used + ' pooled connections; set DB_CONNECTION_BUDGET to compare with a budget';
      document.getElementById('updated').textContent = 'updated ' + new Date(status.generatedAt).toLocaleTimeString();
    } catch (error) {
      document.getElementById('updated').textContent = 'status unavailable, retrying';
    }
  }
  refresh();
  setInterval(refresh, 2000);
</script>
</body>
</html>`;
}
