// A small SVG chart (no charting library needed for two line plots): requests per second and
// PostgreSQL server connections over time, session mode against transaction mode.
interface Series {
  label: string;
  color: string;
  points: number[];
}

function panel(title: string, series: Series[], top: number, width: number, height: number, limit?: number): string {
  const max = Math.max(1, limit ?? 0, ...series.flatMap((s) => s.points)) * 1.1;
  const length = Math.max(2, ...series.map((s) => s.points.length));
  const x = (i: number) => 60 + (i / (length - 1)) * (width - 80);
  const y = (v: number) => top + height - (v / max) * height;
  const lines = series
    .map((s) => {
      const d = s.points.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${d}"/>`;
    })
    .join('');
  const limitLine =
    limit === undefined
      ? ''
      : `<line x1="60" x2="${width - 20}" y1="${y(limit)}" y2="${y(limit)}" stroke="#999" stroke-dasharray="4 4"/>` +
        `<text x="${width - 20}" y="${y(limit) - 4}" text-anchor="end" font-size="11" fill="#666">pool ${limit}</text>`;
  const legend = series
    .map((s, i) => `<text x="${70 + i * 180}" y="${top - 8}" font-size="12" fill="${s.color}">■ ${s.label}</text>`)
    .join('');
  return (
    `<text x="10" y="${top - 24}" font-size="14" font-weight="600">${title}</text>${legend}` +
    `<line x1="60" x2="60" y1="${top}" y2="${top + height}" stroke="#ccc"/>` +
    `<line x1="60" x2="${width - 20}" y1="${top + height}" y2="${top + height}" stroke="#ccc"/>` +
    `<text x="55" y="${top + 10}" text-anchor="end" font-size="11">${Math.round(max)}</text>` +
    `<text x="55" y="${top + height}" text-anchor="end" font-size="11">0</text>` +
    `<text x="${width - 20}" y="${top + height + 16}" text-anchor="end" font-size="11">seconds</text>${limitLine}${lines}`
  );
}

export function renderIncidentChart(
  session: { requests: number[]; connections: number[] },
  transaction: { requests: number[]; connections: number[] },
  poolLimit: number,
): string {
  const width = 760;
  const colors = { session: '#d92d20', transaction: '#039855' };
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="520" font-family="system-ui, sans-serif" role="img">` +
    '<title>Session vs transaction pooler: successful requests per second and PostgreSQL server connections</title>' +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    panel(
      'Successful requests per second',
      [
        { label: 'session pooler (incident)', color: colors.session, points: session.requests },
        { label: 'transaction pooler (fix)', color: colors.transaction, points: transaction.requests },
      ],
      60,
      width,
      170,
    ) +
    panel(
      'PostgreSQL server connections',
      [
        { label: 'session pooler (incident)', color: colors.session, points: session.connections },
        { label: 'transaction pooler (fix)', color: colors.transaction, points: transaction.connections },
      ],
      320,
      width,
      170,
      poolLimit,
    ) +
    '</svg>'
  );
}
