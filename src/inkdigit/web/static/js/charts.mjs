// charts: the dashboard's Chart.js configurations, made from a GET /api/v1/stats answer and the
// page's colours (read from its CSS variables, so both themes are followed). `chartConfigs(stats,
// colors)` returns {id: config} for the canvases readings per day, accuracy per day, digits read,
// sources and latency per day; `chartSummary(id, stats)` is the sentence each chart's canvas
// carries for screen readers; `totals(stats)` the headline figures. Pure: no Chart.js, no DOM.

const pct = (x) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`);
const ms = (x) => (x === null || x === undefined ? "–" : `${Number(x).toFixed(1)} ms`);
const SOURCE_NAMES = { canvas: "drawn", upload: "uploaded", api: "API" };

export const ACCURACY_TERM = "Accuracy (unreviewed readings counted as right)";
export const REVIEWED_TERM = "Accuracy of reviewed readings";

/** The words of the dashboard that depend on whose readings it shows (`scope`: "me" or "all"):
 * the accuracy chart's caption and the confusion matrix's hint. */
export function scopeWords(scope) {
  const whose = scope === "all" ? "everyone's corrections" : "your corrections";
  return {
    accuracy: `Accuracy per day (from ${whose}; unreviewed readings counted as right)`,
    confusion: scope === "all"
      ? "Digit readings their readers confirmed or corrected. The diagonal is right answers; every other cell is a mistake."
      : "Digit readings you confirmed or corrected. The diagonal is right answers; every other cell is a mistake.",
  };
}

/** True when the period holds no reading at all: the dashboard then says so instead of empty charts. */
export const isEmpty = (stats) => !stats || !Number(stats.readings);

/** Headline figures: [{term, value}] for the summary list. */
export function totals(stats) {
  const list = [
    { term: "Readings", value: String(stats.readings) },
    { term: ACCURACY_TERM, value: pct(stats.accuracy) },
    { term: REVIEWED_TERM, value: pct(stats.reviewed_accuracy) },
    { term: "Corrected", value: `${stats.corrected} of ${stats.labelled} reviewed` },
    { term: "Median time", value: ms(stats.latency_ms && stats.latency_ms.median) },
    { term: "90th percentile time", value: ms(stats.latency_ms && stats.latency_ms.p90) },
  ];
  if (stats.users !== null && stats.users !== undefined) list.unshift({ term: "Accounts", value: String(stats.users) });
  return list;
}

const shortDate = (iso) => iso.slice(5); // MM-DD: the year is the period's

function base(colors, { yMax, percent = false, legend = false } = {}) {
  const ticks = { color: colors.muted };
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: {
      legend: { display: legend, labels: { color: colors.text } },
      tooltip: percent ? { callbacks: { label: (c) => `${(c.parsed.y * 100).toFixed(1)}%` } } : {},
    },
    scales: {
      x: { ticks: { ...ticks, maxRotation: 0, autoSkip: true }, grid: { color: colors.line } },
      y: {
        beginAtZero: true, ...(yMax !== undefined ? { max: yMax } : {}),
        ticks: percent ? { ...ticks, callback: (v) => `${Math.round(v * 100)}%` } : { ...ticks, precision: 0 },
        grid: { color: colors.line },
      },
    },
  };
}

export function chartConfigs(stats, colors) {
  const days = stats.per_day.map((d) => shortDate(d.date));
  const sources = Object.keys(stats.sources);
  return {
    "c-readings": {
      type: "bar",
      data: { labels: days, datasets: [{ label: "Readings", data: stats.per_day.map((d) => d.readings), backgroundColor: colors.accent }] },
      options: base(colors),
    },
    "c-accuracy": {
      type: "line",
      data: { labels: days, datasets: [{ label: "Accuracy", data: stats.per_day.map((d) => d.accuracy), borderColor: colors.ok,
        backgroundColor: colors.ok, spanGaps: true, pointRadius: 3 }] },
      options: base(colors, { yMax: 1, percent: true }),
    },
    "c-digits": {
      type: "bar",
      data: { labels: [..."0123456789"], datasets: [{ label: "Times read", data: stats.digits, backgroundColor: colors.accent }] },
      options: base(colors),
    },
    "c-sources": {
      type: "bar",
      data: { labels: sources.map((s) => SOURCE_NAMES[s] || s),
        datasets: [{ label: "Readings", data: sources.map((s) => stats.sources[s]), backgroundColor: colors.bar, borderColor: colors.accent, borderWidth: 1 }] },
      options: { ...base(colors), indexAxis: "y" },
    },
    "c-latency": {
      type: "line",
      data: { labels: days, datasets: [{ label: "Median ms", data: stats.per_day.map((d) => d.median_ms), borderColor: colors.warn,
        backgroundColor: colors.warn, spanGaps: true, pointRadius: 3 }] },
      options: base(colors),
    },
  };
}

/** What a chart shows, in one sentence (the canvas's accessible description). */
export function chartSummary(id, stats) {
  const busiest = stats.per_day.reduce((a, d) => (d.readings > (a ? a.readings : 0) ? d : a), null);
  const top = stats.digits.indexOf(Math.max(...stats.digits));
  switch (id) {
    case "c-readings":
      return `${stats.readings} readings in all; ${busiest ? `most on ${busiest.date} (${busiest.readings})` : "none in this period"}.`;
    case "c-accuracy":
      return `Accuracy over the period: ${pct(stats.accuracy)}.`;
    case "c-digits":
      return stats.digits.some((n) => n > 0) ? `Digits read: ${stats.digits.map((n, d) => `${d}: ${n}`).join(", ")}; most often ${top}.` : "No digit read yet.";
    case "c-sources":
      return `Sources: ${Object.entries(stats.sources).map(([s, n]) => `${SOURCE_NAMES[s] || s} ${n}`).join(", ")}.`;
    case "c-latency":
      return `Median reading time ${ms(stats.latency_ms && stats.latency_ms.median)}, 90th percentile ${ms(stats.latency_ms && stats.latency_ms.p90)}.`;
    default:
      return "";
  }
}

/** A cell's shade: 0 (none) to 1 (the largest count of the matrix). */
export function shade(count, max) {
  return max > 0 ? Math.max(0, Math.min(1, count / max)) : 0;
}
