// Draws the benchmark's SVG chart from its JSON result (no chart library): one panel per framework +
// store, throughput of the app without sessions, express-session and sessionkit (in Redis and
// PostgreSQL panels twice: on the third-party store and on its own) as a fraction of the same app with
// only the dictionary-mode step (the baseline), with each scenario's target marked over the row it is
// judged on.
//   node bench/chart.mjs [bench/results/latest.json]   rewrites the .svg next to the JSON
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { labelOf, storeNameOf } from './impls.mjs'
import { SCENARIOS, stepTargetImplOf, sweepsOf, targetOf } from './targets.mjs'

const COLORS = { none: '#d9dee4', 'express-session': '#9aa5b1', sessionkit: '#2f6fdf', 'sessionkit-own': '#173f86', target: '#d64545' }
const BARS = ['none', 'express-session', 'sessionkit', 'sessionkit-own']
// The legend is for every panel at once; each bar's tooltip names its exact store.
const LEGEND = {
  none: 'no session',
  'express-session': 'express-session',
  sessionkit: 'sessionkit',
  'sessionkit-own': 'sessionkit on its own store',
}
/** A row's throughput against the baseline: the step-only app, or for older results the app without sessions. */
const ratioOf = (row) => row?.vsStep ?? row?.vsNone
const PANEL_W = 440
const PANEL_H = 260
const MARGIN = { top: 34, right: 12, bottom: 54, left: 44 }

export function renderChart(result) {
  const groups = result.groups
  const columns = Math.min(2, Math.max(1, groups.length))
  const rows = Math.max(1, Math.ceil(groups.length / columns))
  const width = columns * PANEL_W + 20
  const headerH = 64
  const footerH = result.memory ? 58 : 18
  const height = headerH + rows * PANEL_H + footerH
  const maxRatio = Math.max(1.1, ...groups.flatMap((g) => Object.values(g.scenarios).flatMap((s) => BARS.map((impl) => ratioOf(s[impl]) ?? 0))))
  const top = Math.ceil(maxRatio * 10) / 10

  const out = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`)
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  const baseline = groups.some((g) => Object.values(g.scenarios).some((s) => s.step)) ? 'with only the dictionary-mode step' : 'without sessions'
  out.push(text(14, 22, `Throughput as a fraction of the same Express app ${baseline} (higher is better)`, { size: 15, weight: 600 }))
  const m = result.machine
  out.push(text(14, 40, `${m.cpu}, ${m.cores} cores, Node ${m.node}; autocannon ${result.options.connections} connections, median of ${result.options.rounds} × ${result.options.duration} s; ${result.date.slice(0, 10)}`, { size: 11, fill: '#555' }))
  // Legend.
  let lx = 14
  const present = BARS.filter((impl) => groups.some((g) => Object.values(g.scenarios).some((s) => s[impl])))
  for (const [label, color] of present.map((impl) => [LEGEND[impl], COLORS[impl]])) {
    out.push(`<rect x="${lx}" y="49" width="12" height="10" fill="${color}"/>`)
    out.push(text(lx + 16, 58, label, { size: 11 }))
    lx += 16 + label.length * 6.5 + 14
  }
  out.push(`<line x1="${lx}" y1="54" x2="${lx + 16}" y2="54" stroke="${COLORS.target}" stroke-width="2" stroke-dasharray="4 2"/>`)
  out.push(text(lx + 20, 58, 'target', { size: 11 }))

  groups.forEach((group, index) => {
    const x0 = (index % columns) * PANEL_W + 10
    const y0 = headerH + Math.floor(index / columns) * PANEL_H
    out.push(panel(group, x0, y0, top))
  })

  if (result.memory) {
    const mem = result.memory
    const y = headerH + rows * PANEL_H + 16
    const ours = mem.sessionkit?.bytesPerSession
    const theirs = mem.expressSession?.bytesPerSession
    if (ours !== undefined && theirs !== undefined) {
      out.push(text(14, y, `MemoryStore heap per session (${mem.sessions.toLocaleString('en-US')} sessions, after GC): sessionkit ${Math.round(ours)} B, express-session ${Math.round(theirs)} B`, { size: 12 }))
    }
    const sweeps = sweepsOf(mem)
    if (sweeps.length > 0) {
      const prune = sweeps[0].expressSessionPruneMs
      const extra = prune === undefined ? '' : ` (express-session prunes them in one synchronous ${Math.round(prune)} ms pass)`
      out.push(text(14, y + 18, `Sweeping ${sweeps[0].expired.toLocaleString('en-US')} expired sessions: longest event-loop block ${Math.max(...sweeps.map((s) => s.maxDelayMs)).toFixed(1)} ms over ${sweeps.length} run(s)${extra}`, { size: 12 }))
    }
  }
  out.push('</svg>')
  return out.join('\n') + '\n'
}

function panel(group, x0, y0, top) {
  const out = []
  const w = PANEL_W - MARGIN.left - MARGIN.right
  const h = PANEL_H - MARGIN.top - MARGIN.bottom
  const left = x0 + MARGIN.left
  const base = y0 + MARGIN.top + h
  const y = (ratio) => base - (Math.min(ratio, top) / top) * h
  const store = { memory: 'in-memory store', redis: 'Redis', postgres: 'PostgreSQL' }[group.store] ?? group.store
  const title = `${group.framework === 'express4' ? 'Express 4' : 'Express 5'}, ${store}`
  out.push(text(left, y0 + 20, title, { size: 13, weight: 600 }))
  // The stores in smaller type after the title: spelled out in the title they would run into the next panel.
  const stores = ['sessionkit', 'sessionkit-own'].map((impl) => storeNameOf(impl, group.store)).filter(Boolean)
  if (group.store !== 'memory') out.push(text(left + title.length * 7.6 + 8, y0 + 20, stores.join(' · '), { size: 11, fill: '#555' }))
  for (let tick = 0; tick <= top + 1e-9; tick += 0.2) {
    const ty = y(tick)
    out.push(`<line x1="${left}" y1="${ty.toFixed(1)}" x2="${left + w}" y2="${ty.toFixed(1)}" stroke="${Math.abs(tick - 1) < 1e-9 ? '#444' : '#e3e3e3'}" stroke-width="1"/>`)
    out.push(text(left - 6, ty + 4, `${tick.toFixed(1)}×`, { size: 10, anchor: 'end', fill: '#666' }))
  }
  const scenarios = SCENARIOS.filter((s) => group.scenarios[s.key])
  const slot = w / Math.max(1, scenarios.length)
  // The same bar width in every panel, four bars' worth, so that panels with three line up with the rest.
  const gap = 4
  const barW = Math.min(24, (slot - 12) / BARS.length - gap)
  const judged = stepTargetImplOf(group.store)
  scenarios.forEach((scenario, i) => {
    const cx = left + slot * i + slot / 2
    const rowsOf = group.scenarios[scenario.key]
    const bars = BARS.filter((impl) => ratioOf(rowsOf[impl]) !== undefined)
    const x0 = cx - (bars.length * (barW + gap) - gap) / 2
    let targetX
    bars.forEach((impl, j) => {
      const ratio = ratioOf(rowsOf[impl])
      const bx = x0 + j * (barW + gap)
      const by = y(ratio)
      if (impl === judged) targetX = bx
      out.push(`<rect x="${bx.toFixed(1)}" y="${by.toFixed(1)}" width="${barW.toFixed(1)}" height="${(base - by).toFixed(1)}" fill="${COLORS[impl]}"><title>${impl === 'none' ? LEGEND.none : labelOf(impl, group.store)}: ${Math.round(rowsOf[impl].rps)} req/s, ${ratio.toFixed(2)}× the baseline</title></rect>`)
      out.push(text(bx + barW / 2, by - 4, ratio.toFixed(2), { size: 9, anchor: 'middle' }))
    })
    const target = targetOf(scenario, group.store)
    // Over the bar the target is judged on, a little wider than it; no line when that bar is missing.
    if (target !== undefined && targetX !== undefined) {
      const ty = y(target)
      out.push(`<line x1="${(targetX - 3).toFixed(1)}" y1="${ty.toFixed(1)}" x2="${(targetX + barW + 3).toFixed(1)}" y2="${ty.toFixed(1)}" stroke="${COLORS.target}" stroke-width="2" stroke-dasharray="4 2"/>`)
    }
    const [route, rest] = scenario.label.split(', ')
    out.push(text(cx, base + 16, route, { size: 11, anchor: 'middle' }))
    out.push(text(cx, base + 30, rest, { size: 10, anchor: 'middle', fill: '#555' }))
  })
  return out.join('\n')
}

function text(x, y, content, { size = 12, weight = 400, anchor = 'start', fill = '#222' } = {}) {
  return `<text x="${typeof x === 'number' ? x.toFixed(1) : x}" y="${typeof y === 'number' ? y.toFixed(1) : y}" font-size="${size}"${weight !== 400 ? ` font-weight="${weight}"` : ''} text-anchor="${anchor}" fill="${fill}">${escape(content)}</text>`
}

function escape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const input = process.argv[2] ?? new URL('./results/latest.json', import.meta.url).pathname
  const svgPath = input.replace(/\.json$/, '') + '.svg'
  writeFileSync(svgPath, renderChart(JSON.parse(readFileSync(input, 'utf8'))))
  console.log(`wrote ${svgPath}`)
}
