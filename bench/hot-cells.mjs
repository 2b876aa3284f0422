// The hot-session cells: every connection on ONE session, as the parallel API calls of a single-page app
// or a dashboard are, beside the per-connection cells (a session per connection, as many users are).
// Shared by the runner (bench/run.mjs), its targets and the report (bench/report.mjs).
import { BEFORE, labelOf } from './impls.mjs'

/** The routes measured on the one session; `/count` also says how many of its increments survive. */
export const HOT_SCENARIOS = [
  { key: 'count', label: '/count, one session', path: '/count', cookie: true, hot: true },
  { key: 'read', label: '/read, one session', path: '/read', cookie: true, hot: true },
]

/** The rows: a middleware (an impl of bench/impls.mjs) and whether sessionkit's `merge` is on. */
export const HOT_ROWS = [
  { key: 'express-session', impl: 'express-session', merge: false },
  { key: 'sessionkit', impl: 'sessionkit', merge: false },
  { key: 'sessionkit-merge', impl: 'sessionkit', merge: true },
  { key: 'sessionkit-own', impl: 'sessionkit-own', merge: false },
  { key: 'sessionkit-own-merge', impl: 'sessionkit-own', merge: true },
  { key: 'sessionkit-before', impl: BEFORE, merge: false },
  { key: 'sessionkit-before-merge', impl: BEFORE, merge: true },
]

/** With `--baseline`: each sessionkit row and the row of the code before that it is compared with. */
export const HOT_VS_BEFORE = [
  ['sessionkit', 'sessionkit-before'],
  ['sessionkit-merge', 'sessionkit-before-merge'],
]

/** The rows that run with a store kind, among the implementations asked for (`--impls`). */
export function hotRowsFor(storeKind, impls) {
  return HOT_ROWS.filter((row) => impls.includes(row.impl) && (row.impl !== 'sessionkit-own' || storeKind !== 'memory'))
}

/** "sessionkit + sessionkit/redis, merge". */
export function hotLabelOf(row, storeKind) {
  return `${labelOf(row.impl, storeKind)}${row.merge ? ', merge' : ''}`
}

/** Hot session, `/count`: at least this many times express-session's throughput, on every store. */
export const HOT_VS_EXPRESS_SESSION = 1.5
/** The same with `merge`, which also has to keep what it promises. */
export const HOT_MERGE_VS_EXPRESS_SESSION = 1.0

/**
 * The hot-session targets that a result has the numbers for, each with pass, actual and target; the
 * share of increments kept is reported beside them (info: a counter is one key, and `merge` keeps each
 * request's changed keys, so the newest write of the key wins there too).
 */
export function checkHotTargets(result) {
  const targets = []
  for (const group of result.hot ?? []) {
    const rows = group.scenarios.count
    if (!rows?.['express-session']) continue
    const where = `${group.framework}/${group.store} hot session /count`
    for (const row of HOT_ROWS) {
      const r = rows[row.key]
      // The code before a change is there to be compared with, not judged.
      if (!r || row.impl === 'express-session' || row.impl === BEFORE) continue
      const target = row.merge ? HOT_MERGE_VS_EXPRESS_SESSION : HOT_VS_EXPRESS_SESSION
      targets.push({ name: `${where}: ${hotLabelOf(row, group.store)} vs ${labelOf('express-session', group.store)}`, actual: `${r.vsExpressSession.toFixed(2)}×`, target: `≥ ${target}×`, pass: r.vsExpressSession >= target })
    }
    for (const row of HOT_ROWS) {
      const r = rows[row.key]
      if (r?.kept === undefined) continue
      targets.push({ name: `${where}: increments kept by ${hotLabelOf(row, group.store)}`, actual: keptText(r), target: 'reported', info: true })
    }
  }
  return targets
}

/** "812 of 41,230 (2.0%)": the counter's increments against the /count requests the app handled. */
export function keptText(r) {
  return `${Math.round(r.kept).toLocaleString('en-US')} of ${Math.round(r.counted).toLocaleString('en-US')} (${(r.keptShare * 100).toFixed(1)}%)`
}
