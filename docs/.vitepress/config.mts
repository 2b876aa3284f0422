// The documentation site's configuration (VitePress). `npm run docs:build` first writes the API
// reference into docs/api/ with TypeDoc (typedoc.json), then builds this tree into docs/.vitepress/dist.
import { existsSync, readFileSync } from 'node:fs'
import { defineConfig, type DefaultTheme } from 'vitepress'

/** The API reference's sidebar, written by typedoc-plugin-markdown's sidebar option; empty before the first build. */
function apiSidebar(): DefaultTheme.SidebarItem[] {
  const file = new URL('../api/typedoc-sidebar.json', import.meta.url)
  if (!existsSync(file)) return []
  return JSON.parse(readFileSync(file, 'utf8')) as DefaultTheme.SidebarItem[]
}

const guide: DefaultTheme.SidebarItem[] = [
  {
    text: 'Introduction',
    items: [
      { text: 'Getting started', link: '/guide/getting-started' },
      { text: 'Migrating from express-session', link: '/guide/migrating' },
      { text: 'Where sessionkit differs', link: '/guide/differences' },
    ],
  },
  {
    text: 'Using sessions',
    items: [
      { text: 'Options', link: '/guide/options' },
      { text: 'req.session', link: '/guide/session-api' },
      { text: 'Types', link: '/guide/types' },
      { text: 'Cookie sessions', link: '/guide/cookie-sessions' },
      { text: 'Moving from cookie-session', link: '/migrate-cookie-session' },
      { text: 'Beyond express-session', link: '/guide/beyond-express-session' },
      { text: 'Events', link: '/guide/events' },
      { text: 'Fetch API servers: Bun, Deno, Hono', link: '/guide/web' },
      { text: 'Sessions in a header', link: '/guide/header-sessions' },
      { text: 'Where am I logged in?', link: '/guide/session-metadata' },
      { text: 'A cap per owner', link: '/guide/sessions-per-owner' },
    ],
  },
  {
    text: 'Stores',
    items: [
      { text: 'Stores', link: '/guide/stores' },
      { text: 'Which guarantee holds with which store', link: '/guide/guarantees' },
      { text: 'Writing a store', link: '/guide/writing-a-store' },
      { text: 'First-party stores in depth', link: '/stores' },
    ],
  },
  {
    text: 'In production',
    items: [
      { text: 'Security', link: '/guide/security' },
      { text: 'The cookie is not set', link: '/guide/cookie-not-set' },
      { text: 'Failure behaviour', link: '/guide/failure-behaviour' },
      { text: 'Performance', link: '/guide/performance' },
      { text: 'Benchmark results in full', link: '/performance' },
    ],
  },
  {
    text: 'Frameworks',
    items: [
      { text: 'Express, connect and node:http', link: '/frameworks/' },
      { text: 'Hono', link: '/frameworks/hono' },
      { text: 'Koa', link: '/frameworks/koa' },
      { text: 'Fastify', link: '/frameworks/fastify' },
      { text: 'React Router', link: '/frameworks/react-router' },
      { text: 'SvelteKit', link: '/frameworks/sveltekit' },
      { text: 'Next.js', link: '/frameworks/next' },
    ],
  },
  {
    text: 'Contributing',
    collapsed: true,
    items: [{ text: 'Architecture', link: '/architecture' }],
  },
]

const base = process.env.DOCS_BASE ?? '/'

export default defineConfig({
  title: 'sessionkit',
  description: 'Typed, promise-friendly session middleware for Node: a drop-in replacement for express-session',
  // DOCS_BASE lets the same build be served under a path (GitHub Pages serves a project at /<name>/).
  base,
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: `${base}favicon.svg` }]],
  cleanUrls: false,
  lastUpdated: false,
  // A dead link fails the build; the browser test also checks every anchor.
  ignoreDeadLinks: false,
  // The local search index and Vue make one large chunk; it is loaded once and cached.
  vite: { build: { chunkSizeWarningLimit: 1500 } },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/getting-started' },
      { text: 'Frameworks', link: '/frameworks/' },
      { text: 'API', link: '/api/' },
    ],
    sidebar: {
      '/api/': [{ text: 'API reference', link: '/api/', items: apiSidebar() }],
      '/': guide,
    },
    search: { provider: 'local' },
    outline: [2, 3],
    socialLinks: [{ icon: 'github', link: 'https://github.com/sessionkit/sessionkit' }],
  },
})
